"""Weight-spectrum diagnostics streamed from safetensors: the "parameter footprint" of training.

Python API (what the report card calls)::

    from shadow_suite.spectral import analyze_model, load_spectra, read_document, write_result
    result = analyze_model("path/to/model", base_dir="path/to/base")  # -> SpectralResult
    write_result(result, "out/")         # spectra.parquet + spectra.json + singular_values.npz
    result = load_spectra("out/")        # the same SpectralResult back, no recompute
    document = read_document("out/")     # spectra.json alone, typed (SpectraDocument)

``result.table`` has one row per tensor; ``result.document`` is spectra.json as a typed
:class:`SpectraDocument` (provenance, counts, ``summary``); ``result.singular_values[name]`` /
``result.update_singular_values[name]`` are the spectra. Modules: ``reader`` (files), ``names``
(module kind, layer), ``linalg`` (singular values), ``metrics`` and ``powerlaw`` (pure
formulas), ``cache``, ``summary``, ``document`` (spectra.json: types, metric names, the strict
loader), ``result`` (files out and back), ``engine`` (the loop), ``cli`` (``shadow-suite
spectra``).
"""

from shadow_suite.spectral.document import SpectraDocument, read_document
from shadow_suite.spectral.engine import analyze_model
from shadow_suite.spectral.result import SpectralResult, load_spectra, write_result

__all__ = [
    "SpectraDocument",
    "SpectralResult",
    "analyze_model",
    "load_spectra",
    "read_document",
    "write_result",
]
