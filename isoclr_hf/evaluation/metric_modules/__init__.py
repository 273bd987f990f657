"""Local ``evaluate`` metric modules (Pearson r, Spearman rho, MSE) backed by scipy and sklearn.

``evaluate.load("pearsonr")`` fetches the metric script from the Hugging Face Hub, which fails
offline (evaluate 0.4 ships no metric scripts in the package). These modules are the same metrics
as local scripts, loaded with ``evaluate.load(path_to_this_folder / "pearsonr.py")``; see
:mod:`isoclr_hf.evaluation.metrics`.
"""
