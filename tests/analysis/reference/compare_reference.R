# Reference values for analysis/compare.py, produced with R's stats and survey packages.
# Run from the repository root:  Rscript tests/analysis/reference/compare_reference.R
# Writes tests/analysis/reference/compare_reference.json (committed, so the suite runs
# without R).
suppressPackageStartupMessages(library(survey))

out <- list()

# Holm and Benjamini-Hochberg (methodology §4 oracle and a longer vector with ties).
p <- c(0.001, 0.01, 0.02, 0.04, 0.3)
q <- c(0.04, 0.01, 0.2, 0.04, 0.9, 0.0005, 0.03, 0.5)
out$p_adjust <- list(
  p = p, holm = p.adjust(p, "holm"), bh = p.adjust(p, "BH"),
  q = q, q_holm = p.adjust(q, "holm"), q_bh = p.adjust(q, "BH")
)

# Pooled two-proportion z test = prop.test without continuity correction (chi-square = z^2).
cases <- list(c(37, 50, 30, 50), c(120, 150, 95, 140), c(10, 10, 7, 12), c(5, 40, 18, 45))
out$prop_test <- lapply(cases, function(v) {
  t <- suppressWarnings(prop.test(c(v[1], v[3]), c(v[2], v[4]), correct = FALSE))
  list(x1 = v[1], n1 = v[2], x2 = v[3], n2 = v[4], p_value = unname(t$p.value),
       statistic = unname(t$statistic))
})

# Difference of two independent design-based estimates: two samples with their own strata
# and clusters; the difference of the domain means from one svydesign equals V1 + V2 because
# no stratum is shared.
fixture <- read.csv("tests/analysis/reference/compare_design_fixture.csv")
des <- svydesign(ids = ~cluster, strata = ~stratum, weights = ~weight, data = fixture,
                 nest = TRUE)
by <- svyby(~y, ~sample, des, svymean, covmat = TRUE)
diff <- svycontrast(by, c(1, -1))
sub_a <- subset(des, sample == "a")
sub_b <- subset(des, sample == "b")
out$design <- list(
  mean_a = unname(coef(by)[1]), se_a = unname(SE(by)[1]),
  mean_b = unname(coef(by)[2]), se_b = unname(SE(by)[2]),
  covariance = vcov(by)[1, 2],
  difference = unname(coef(diff)), se_difference = unname(SE(diff)),
  df_a = degf(sub_a), df_b = degf(sub_b), df = degf(des)
)

to_json <- function(x) {
  # minimal JSON writer (jsonlite may be absent)
  enc <- function(v) {
    if (is.list(v)) {
      if (is.null(names(v))) return(paste0("[", paste(sapply(v, enc), collapse = ", "), "]"))
      return(paste0("{", paste(sprintf("\"%s\": %s", names(v), sapply(v, enc)),
                               collapse = ", "), "}"))
    }
    if (length(v) == 1) return(formatC(v, digits = 15, format = "g"))
    paste0("[", paste(formatC(v, digits = 15, format = "g"), collapse = ", "), "]")
  }
  enc(x)
}
writeLines(to_json(out), "tests/analysis/reference/compare_reference.json")
