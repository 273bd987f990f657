"""Full fine-tuning of a head on its encoder: one engine for regression and multi-label classification.

Modules: ``settings`` (the one declaration of the hyperparameters), ``heads`` (a head on a saved
encoder, or on the same architecture freshly initialised), ``engine`` (the training loop, the choice of
learning rate and epoch on validation), ``runs`` (the fine-tuning runs of ``isoclr evaluate`` and their
time estimate), ``launcher`` (what ``training/finetune.py`` runs).
"""
