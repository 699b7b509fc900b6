"""Search: embedder, vector index, keyword index, hybrid fusion, similar papers."""

# onnxruntime must load before usearch. usearch's wheel links libstdc++ statically and exports
# its locale facet ids as GNU-unique symbols; onnxruntime loaded after it binds to those and
# segfaults on import (in std::codecvt). Loaded first, it makes usearch bind to the system's.
import onnxruntime  # noqa: F401
