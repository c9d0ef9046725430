"""The ``shadow_suite`` lm-eval task pack, in one place.

===================  ============================================================================
module               owns
===================  ============================================================================
``suite``            the five benchmarks: data splits, lm-eval task, primary metric, row fields
``data``             reading a benchmark's split (local folder or hub), its SHA-256, few-shot gaps
``variants/``        the OOD variants: each registered next to its transform, all pure and seeded
``loader``           :func:`~shadow_suite.taskpack.loader.build_docs`, the one function that makes
                     a benchmark's documents (for lm-eval, ``shadow-suite variants`` and the demo)
``samplers``         lm-eval's task class and few-shot samplers for the pack (imports lm-eval)
``preprocess``       lm-eval's own HellaSwag and WinoGrande preprocessing, for identical requests
``plugin``           how lm-eval finds the pack (entry point, and an import hook until then)
``generate``         writes the variant tasks' YAML from the variant registry
``tasks/``           the YAML lm-eval reads (``tasks/shadow_suite/README.md`` describes the pack)
===================  ============================================================================

The names and fields the pack writes into every document are :mod:`shadow_suite.contract`'s.
Importing this package is cheap and imports no lm-eval: the start-up hook imports ``plugin``.
"""
