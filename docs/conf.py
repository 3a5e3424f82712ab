"""Sphinx configuration of the numnet site: ``make docs`` builds it with warnings as errors.

The pages are Markdown (MyST). The API reference is generated here, at every
build, from ``numnet.__all__`` and the ``__all__`` of every public module
(:func:`write_api_pages`), so a new public name appears without editing any
page. The gallery runs ``examples/plot_*.py`` (sphinx-gallery) at small sizes.
"""

import os

os.environ.setdefault(
    "OMP_NUM_THREADS", "1"
)  # before NumPy loads its BLAS: small problems run fastest on one thread

import importlib  # noqa: E402
import inspect  # noqa: E402
import pkgutil  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import numnet  # noqa: E402

HERE = Path(__file__).resolve().parent

project = "numnet"
author = "the numnet developers"
copyright = "the numnet developers"
version = release = numnet.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.md5", "auto_examples/*.json"]
highlight_language = "text"  # unlabelled blocks are command lines and outputs

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "pydata_sphinx_theme"
html_title = "numnet"
html_theme_options = {
    "navigation_with_keys": False,
    "collapse_navigation": True,  # the sidebar of ~140 pages: rendered per page, keep it short
    "navigation_depth": 2,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_show_sourcelink = False

# autodoc + numpydoc: the docstrings are numpydoc, their formulas in code notation
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "capture_repr": (),
    "remove_config_comments": True,
    "show_memory": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "min_reported_time": 1,
}


# ------------------------------------------------------------------ docstrings as reST

# The docstrings write mathematics in plain text: |x| for absolute values, names with a
# trailing underscore (theta_, n_outputs_), *input_shape, ``vjp``s. In reST those are
# substitutions, references, emphasis and a broken literal. After numpydoc has turned a
# docstring into reST (priority 600 > numpydoc's 500), they are escaped in prose lines;
# literals, roles, tables, literal blocks and doctest blocks are left as they are.
_LITERALS = re.compile(r"(``.+?``|:\w+:`[^`]*`|`[^`]*`_{0,2})")


def _escape_prose(text):
    text = text.replace("|", "\\|")
    text = re.sub(r"(?<=\w)_(?=[\s,.;:)\]'’/]|$)", r"\\_", text)
    return re.sub(r"(?<=[(\[,\s])\*(?=[A-Za-z_])(?![^*]*\*)", r"\\*", text)


def escape_line(line):
    """``line`` of a docstring with the reST markup characters of its prose escaped."""
    parts = _LITERALS.split(line)
    for i in range(0, len(parts), 2):
        parts[i] = _escape_prose(parts[i])
        if i and parts[i][:1].isalnum():  # ``vjp``s, :data:`GROWTH`ᵏ: end the markup first
            parts[i] = "\\ " + parts[i]
    return "".join(parts)


def escape_docstring(app, what, name, obj, options, lines):
    """autodoc-process-docstring: escape the prose lines of ``lines`` in place."""
    literal_indent = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if not stripped or indent > literal_indent:
                continue
            literal_indent = None
        if stripped.endswith("::"):  # a literal block or a directive's content follows
            literal_indent = indent
        table = stripped.startswith(("+-", "+=")) or (
            stripped.startswith("|") and stripped.endswith("|")
        )
        if table or stripped.startswith((">>>", "...", ".. ")) or not stripped:
            continue
        lines[i] = escape_line(line)


def skip_member(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated metadata-routing methods (``set_fit_request`` …) and
    the fields of NamedTuples that have no docstring but "Alias for field number k"."""
    if re.fullmatch(r"set_\w+_request", name):
        return True
    if str(getattr(obj, "__doc__", None) or "").startswith("Alias for field number"):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", escape_docstring, priority=600)
    app.connect("autodoc-skip-member", skip_member)


# ------------------------------------------------------------------ the API reference


def public_modules():
    """``numnet`` and every module of it whose dotted path has no ``_``-prefixed part."""
    names = ["numnet"]
    for info in pkgutil.walk_packages(numnet.__path__, "numnet."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def _is_shared(obj):
    """Whether ``obj`` is documented once however many modules export it (not a plain value)."""
    return not isinstance(obj, (str, bytes, int, float, complex, bool, type(None)))


def public_names():
    """``{module: [(name, obj)]}`` for every public module's ``__all__``, in ``__all__`` order."""
    table = {}
    for modname in public_modules():
        module = importlib.import_module(modname)
        table[modname] = [(name, getattr(module, name)) for name in getattr(module, "__all__", ())]
    return table


def canonical_paths(table):
    """``{id(obj): "module.name"}``: each shared object's deepest exporting module documents it."""
    best = {}
    for modname, items in table.items():
        for name, obj in items:
            if inspect.ismodule(obj) or not _is_shared(obj):
                continue
            depth = modname.count(".")
            if id(obj) not in best or depth > best[id(obj)][0]:
                best[id(obj)] = (depth, f"{modname}.{name}")
    return {key: path for key, (_, path) in best.items()}


def _directive(obj):
    if inspect.isclass(obj):
        return "autoclass", ["   :members:"]
    if callable(obj):
        return "autofunction", []
    return "autodata", ["   :no-value:"]


def module_section(modname, items, canonical, underline):
    """The reST of one module: title, docstring, a table of its ``__all__``, then each entry it documents."""
    lines = [
        modname,
        underline * len(modname),
        "",
        f".. automodule:: {modname}",
        "   :no-members:",
        "",
    ]
    if not items:
        return lines
    # full paths in the table (an entry relative to the page's module is an "import cycle" to autosummary)
    lines += [
        ".. currentmodule:: None",
        "",
        ".. rubric:: Public names",
        "",
        ".. autosummary::",
        "   :nosignatures:",
        "",
    ]
    own = []
    for name, obj in items:
        if inspect.ismodule(obj):
            lines.append(f"   {obj.__name__}")
            continue
        path = (
            canonical.get(id(obj), f"{modname}.{name}") if _is_shared(obj) else f"{modname}.{name}"
        )
        lines.append(f"   ~{path}")
        if path == f"{modname}.{name}":
            own.append((name, obj))
    lines.append("")
    for name, obj in own:
        directive, options = _directive(obj)
        lines += [f".. {directive}:: {modname}.{name}", *options, ""]
    return lines


def page_groups(modnames):
    """``{page: [modules]}``: a subpackage of numnet and all its modules share one page.

    Other modules have a page of their own.
    """
    groups = {}
    for modname in modnames:
        parts = modname.split(".")
        page = ".".join(parts[:2])
        groups.setdefault(page, []).append(modname)
    return groups


def write_api_pages(out=HERE / "api"):
    """(Re)write ``docs/api/``: one page per module or subpackage, and the index with its toctree."""
    table = public_names()
    canonical = canonical_paths(table)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    groups = page_groups(table)
    for page, modnames in groups.items():
        lines = []
        for i, modname in enumerate(modnames):
            lines += module_section(modname, table[modname], canonical, "=" if i == 0 else "-")
            lines.append("")
        (out / f"{page}.rst").write_text("\n".join(lines) + "\n", encoding="utf-8")
    entries = "\n".join(f"   {page}" for page in groups)
    index = (
        "API reference\n=============\n\n"
        "Every public name: ``numnet.__all__`` and the ``__all__`` of every public module, "
        "generated at each build (a subpackage and its modules share a page). A name exported by "
        "several modules is documented once, in the deepest module that exports it; the others "
        "link there.\n\n"
        f".. toctree::\n   :maxdepth: 2\n\n{entries}\n"
    )
    (out / "index.rst").write_text(index, encoding="utf-8")
    return table


write_api_pages()
