"""PyTorch peers of numnet's products: eager autograd and ``torch.func`` transforms.

Each function takes a :class:`~_mlp.TorchNet` and returns a zero-argument
callable that computes one product and returns it as tensors (so a caller
can compare it with numnet's). Nothing is cached between calls except where
the name says so (``hvp_kept_graph``).
"""

__all__ = [
    "grad_eager",
    "grad_func",
    "hvp_func",
    "hvp_double_backward",
    "hvp_kept_graph",
    "gnvp_func",
]


def _loss(net):
    import torch

    def loss(params):
        F = torch.func.functional_call(net.model, params, (net.X,))
        return torch.nn.functional.cross_entropy(F, net.y)

    return loss


def _leaves(net):
    return {k: p.detach().clone().requires_grad_() for k, p in net.params.items()}


def grad_eager(net):
    """``loss.backward()`` on the ``nn.Module`` (value and gradient)."""
    import torch

    params = list(net.model.parameters())

    def run():
        for p in params:
            p.grad = None
        loss = torch.nn.functional.cross_entropy(net.model(net.X), net.y)
        loss.backward()
        return [p.grad for p in params]

    return run


def grad_func(net):
    """``torch.func.grad_and_value`` of the functional loss."""
    import torch

    fn = torch.func.grad_and_value(_loss(net))
    return lambda: fn(net.params)[0]


def hvp_func(net):
    """Exact Hessian-vector product as ``torch.func.jvp`` of ``torch.func.grad`` (forward-over-reverse)."""
    import torch

    g = torch.func.grad(_loss(net))
    return lambda: torch.func.jvp(g, (net.params,), (net.tangent,))[1]


def hvp_double_backward(net):
    """Exact Hessian-vector product by double backward: grad of (∇J · v), graph rebuilt per call."""
    import torch

    leaves, loss, v = _leaves(net), _loss(net), list(net.tangent.values())

    def run():
        g = torch.autograd.grad(loss(leaves), list(leaves.values()), create_graph=True)
        return torch.autograd.grad(g, list(leaves.values()), grad_outputs=v)

    return run


def hvp_kept_graph(net):
    """Double backward reusing one ``create_graph`` gradient (the amortized form, like ``obj.at``)."""
    import torch

    leaves, v = _leaves(net), list(net.tangent.values())
    g = torch.autograd.grad(_loss(net)(leaves), list(leaves.values()), create_graph=True)
    return lambda: torch.autograd.grad(g, list(leaves.values()), grad_outputs=v, retain_graph=True)


def gnvp_func(net):
    """Gauss-Newton product Jᵀ ∇²E J v: ``torch.func.jvp`` of the network, loss Hessian by jvp-of-grad, ``vjp``."""
    import torch

    def f(p):
        return torch.func.functional_call(net.model, p, (net.X,))

    loss_grad = torch.func.grad(lambda F: torch.nn.functional.cross_entropy(F, net.y))

    def run():
        F, dF = torch.func.jvp(f, (net.params,), (net.tangent,))
        HdF = torch.func.jvp(loss_grad, (F,), (dF,))[1]
        return torch.func.vjp(f, net.params)[1](HdF)[0]

    return run
