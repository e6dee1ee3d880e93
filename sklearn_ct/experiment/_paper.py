"""Published results of the Counterfactual Training paper, for side-by-side comparison.

Source: Altmeyer, Buszydlik, van Deursen and Liem, "Counterfactual Training: Teaching Models
Plausible and Actionable Explanations", IEEE SaTML 2026 (camera-ready LaTeX source,
``paper/satml/main.tex`` of the authors' CounterfactualTraining.jl repository, and its
supplementary appendix ``paper/preprint/appendix.tex``). Only numbers are stored here.

Data set keys are the paper's short names: ``LS`` (linearly separable), ``Circ``
(circles), ``Moon`` (moons), ``OL`` (overlapping), ``Adult``, ``CH`` (California housing),
``Cred`` (default of credit card clients), ``GMSC`` (Give Me Some Credit) and ``MNIST``.
"""

# Authors: The sklearn_ct developers
# SPDX-License-Identifier: BSD-3-Clause

#: Bibliographic source of every number in this module.
PAPER_CITATION = (
    "Altmeyer, Buszydlik, van Deursen and Liem (2026), Counterfactual Training: Teaching "
    "Models Plausible and Actionable Explanations, IEEE SaTML"
)

#: Table I: % reduction of CT vs the baseline, ``(mean, sd over runs, significant)``.
#: IP and IP* come from the unconstrained models (search threshold 0.95), cost from the
#: models trained and explained with the protected feature immutable (threshold 0.5); valid
#: counterfactuals only; 100 runs; significant: the 99 % interval of CT - BL excludes 0.
PAPER_TABLE_ONE = {
    "LS": {"IP": (26.26, 0.67, True), "IP*": (51.28, 2.01, True), "Cost": (16.41, 0.57, True)},
    "Circ": {"IP": (58.88, 0.37, True), "IP*": (93.84, 6.7, True),
             "Cost": (42.99, 0.85, True)},
    "Moon": {"IP": (19.59, 0.73, True), "IP*": (8.0, 9.44, False), "Cost": (5.16, 1.0, True)},
    "OL": {"IP": (-1.93, 1.12, False), "IP*": (-27.7, 14.59, False),
           "Cost": (40.86, 2.3, True)},
    "Adult": {"IP": (0.19, 1.05, False), "IP*": (34.35, 5.61, True),
              "Cost": (4.03, 4.03, False)},
    "CH": {"IP": (10.65, 1.47, True), "IP*": (63.06, 4.25, True), "Cost": (44.23, 1.43, True)},
    "Cred": {"IP": (10.14, 1.59, True), "IP*": (50.35, 12.26, True),
             "Cost": (-18.17, 4.4, True)},
    "GMSC": {"IP": (10.65, 2.28, True), "IP*": (24.75, 4.84, True),
             "Cost": (66.01, 1.41, True)},
    "MNIST": {"IP": (6.36, 1.7, True), "IP*": (-70.31, 217.6, False),
              "Cost": (-35.11, 6.96, True)},
}

#: Table I's "Avg." row (plain mean of the nine data sets' reductions).
PAPER_TABLE_ONE_AVERAGE = {"IP": 15.64, "IP*": 25.29, "Cost": 18.49}

#: Absolute means behind Table I (appendix), ``{measure: {data set: (CT, BL)}}``.
PAPER_MEANS = {
    "IP": {"LS": (2.51, 3.40), "Circ": (0.97, 2.36), "Moon": (1.37, 1.71),
           "OL": (4.52, 4.44), "Adult": (15.13, 15.16), "CH": (6.72, 7.52),
           "Cred": (19.79, 22.02), "GMSC": (7.24, 8.10), "MNIST": (261.05, 278.84)},
    "IP*": {"LS": (0.11, 0.23), "Circ": (0.00, 0.00), "Moon": (0.02, 0.02),
            "OL": (0.12, 0.09), "Adult": (0.07, 0.11), "CH": (0.02, 0.06),
            "Cred": (0.03, 0.06), "GMSC": (0.05, 0.07), "MNIST": (0.02, 0.02)},
    "Cost": {"LS": (3.75, 4.48), "Circ": (0.70, 1.22), "Moon": (1.52, 1.60),
             "OL": (1.55, 2.62), "Adult": (2.19, 2.28), "CH": (1.37, 2.46),
             "Cred": (2.70, 2.29), "GMSC": (1.03, 3.04), "MNIST": (72.08, 53.42)},
}

#: Validity of the test-time counterfactuals, ``{data set: (CT, BL, CT mut., BL mut.)}``:
#: unconstrained models (threshold 0.95) and models with the protected feature (0.5).
PAPER_VALIDITY = {
    "LS": (1.0, 1.0, 1.0, 1.0),
    "Circ": (1.0, 0.51, 0.71, 0.48),
    "Moon": (1.0, 1.0, 1.0, 0.98),
    "OL": (0.86, 0.98, 0.34, 0.56),
    "Adult": (0.68, 0.99, 0.70, 0.99),
    "CH": (1.0, 1.0, 1.0, 1.0),
    "Cred": (0.72, 1.0, 0.74, 1.0),
    "GMSC": (0.94, 1.0, 0.97, 1.0),
    "MNIST": (1.0, 1.0, 1.0, 1.0),
}

#: Test accuracy and robust accuracy at epsilon = 0.1, ``{data set: {column: (BL, CT)}}``.
#: Real data sets: values read off the paper's robustness figure (approximate, +- 0.02).
#: Synthetic data sets: the appendix's accuracies (the paper omits their robustness as
#: "unaffected"); robust accuracies are not published for them.
PAPER_ROBUSTNESS = {
    "LS": {"accuracy": (1.0, 1.0)},
    "Circ": {"accuracy": (1.0, 1.0)},
    "Moon": {"accuracy": (1.0, 1.0)},
    "OL": {"accuracy": (0.92, 0.91)},
    "Adult": {"accuracy": (0.86, 0.86), "fgsm": (0.00, 0.75), "pgd": (0.00, 0.70)},
    "CH": {"accuracy": (0.85, 0.81), "fgsm": (0.41, 0.69), "pgd": (0.40, 0.68)},
    "Cred": {"accuracy": (0.71, 0.71), "fgsm": (0.26, 0.67), "pgd": (0.25, 0.66)},
    "GMSC": {"accuracy": (0.75, 0.65), "fgsm": (0.12, 0.47), "pgd": (0.12, 0.47)},
    "MNIST": {"accuracy": (0.92, 0.90), "fgsm": (0.16, 0.65), "pgd": (0.12, 0.60)},
}
