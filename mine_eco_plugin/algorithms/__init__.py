"""Processing algorithms: one module per algorithm or small family; the provider finds every
``MineEcoAlgorithm`` subclass with an ``algorithm_id`` defined here."""
