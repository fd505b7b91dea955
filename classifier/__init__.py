"""The prompt classifier: task type, complexity and difficulty of a coding-assistant prompt, from a local
sentence embedding and a few structural features, with scikit-learn heads trained on `data/`.

Importing this package is cheap; torch, sentence-transformers and scikit-learn load only when used."""
