"""SeqGAN Studio's engine: SeqGAN (Yu et al., 2017) in PyTorch, with a run store and a job manager.

Never imports streamlit: the app, the CLI and the tests all drive this package.
"""
__version__ = "0.1.0"
