#!/usr/bin/env Rscript
# Reference values from R's `survey` package for tests/analysis/test_reference_r.py.
#
# Run from anywhere (needs r-cran-survey and r-cran-jsonlite):
#   Rscript tests/analysis/reference/make_reference.R
# Reads fixture.csv beside this script, writes r_values.json beside it. The test suite reads
# the JSON, so it runs without R; rerun this after changing the fixture.
#
# Conventions reproduced (methodology §2-§3, docs/analysis.md):
# - criterion k: y = 1 if answer >= 4, computed among its answerers (available case);
# - composites: svycontrast() of svytotal() ratios n_k/d_k, element = mean of its criteria,
#   overall = mean of elements; groups are domains: des[domain, ] keeps the full design's
#   PSU counts (fpc$sampsize), exactly like svyby (checked below with stopifnot);
# - Korn-Graubard: svyciprop(method = "beta") on des[domain & answered, ];
# - df of an estimate: degf() of the design restricted to its respondents; composite logit
#   interval plogis(qlogis(t) +- q * se / (t (1 - t))), q = qt(., df) under a design, qnorm
#   without;
# - deff: V / V_srs with V_srs = p(1-p)/n for a proportion and
#   (n / sum w) * sum_i w_i (sum_k a_k r_ik (y_ik - p_k) / n_k)^2 for a composite.

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})
options(survey.lonely.psu = "fail", warn = 1)

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else getwd()

d <- read.csv(file.path(here, "fixture.csv"), fileEncoding = "UTF-8-BOM",
              stringsAsFactors = FALSE, na.strings = "", colClasses = c(response_id = "character"))
conf <- 0.95
alpha <- 1 - conf

crit <- grep("^(TC|TT|CC|KQ|PA)[0-9]+$", names(d), value = TRUE)
elements <- split(crit, sub("[0-9]+$", "", crit))
elements <- elements[unique(sub("[0-9]+$", "", crit))]  # questionnaire order
d$quarter <- paste0(substr(d$submitted_on, 1, 4), "-Q",
                    (as.integer(substr(d$submitted_on, 6, 7)) - 1) %/% 3 + 1)

# 0/1 indicator variables; numerator n_k and denominator d_k are 0 when unanswered.
props <- list()
for (k in c(crit, "HL")) props[[k]] <- list(var = k, sat = c(4, 5))
props[["MD1_top"]] <- list(var = "MD1", sat = 3)
props[["MD1_top_two"]] <- list(var = "MD1", sat = c(2, 3))
for (name in names(props)) {
  v <- d[[props[[name]]$var]]
  d[[paste0("y_", name)]] <- as.numeric(v %in% props[[name]]$sat)
  d[[paste0("y_", name)]][is.na(v)] <- NA
  d[[paste0("n_", name)]] <- as.numeric(!is.na(v) & v %in% props[[name]]$sat)
  d[[paste0("d_", name)]] <- as.numeric(!is.na(v))
}

designs <- list(
  srs = suppressWarnings(svydesign(ids = ~1, data = d)),
  weights = svydesign(ids = ~1, weights = ~weight, data = d),
  full = svydesign(ids = ~cluster, strata = ~stratum, weights = ~weight, nest = TRUE, data = d)
)

ratio_expr <- function(ks) paste0("(", paste0("n_", ks, "/d_", ks, collapse = " + "), ")/", length(ks))
element_expr <- lapply(elements, ratio_expr)
overall_expr <- paste0("(", paste0(unlist(element_expr), collapse = " + "), ")/", length(elements))

one_prop <- function(des, dom, name, is_design) {
  v <- d[[props[[name]]$var]]
  ans <- dom & !is.na(v)
  s <- des[ans, ]
  f <- as.formula(paste0("~y_", name))
  m <- svymean(f, s)
  p <- unname(coef(m)); V <- unname(vcov(m))[1, 1]; n <- sum(ans)
  out <- list(p = p, se = sqrt(V), n = n)
  if (is_design) {
    ci <- attr(svyciprop(f, s, method = "beta", level = conf), "ci")
    out$ci <- unname(as.numeric(ci))
    out$df <- degf(s)
    out$deff <- V / (p * (1 - p) / n)
  }
  if (props[[name]]$var == name) {
    mm <- svymean(as.formula(paste0("~", name)), s)
    out$mean <- as.numeric(coef(mm)); out$mean_se <- as.numeric(SE(mm))
  }
  out
}

composite <- function(des, dom, ks, expr, a, is_design) {
  any <- dom & rowSums(!is.na(d[, ks, drop = FALSE])) > 0
  tot <- svytotal(as.formula(paste0("~", paste0("n_", ks, " + d_", ks, collapse = " + "))),
                  des[dom, ])
  est <- svycontrast(tot, parse(text = expr)[[1]])
  theta <- as.numeric(coef(est)); se <- as.numeric(SE(est))
  df <- degf(des[any, ])
  q <- if (is_design) qt(1 - alpha / 2, df) else qnorm(1 - alpha / 2)
  half <- q * se / (theta * (1 - theta))
  out <- list(value = theta, se = se, n = sum(any),
              ci = plogis(qlogis(theta) + c(-1, 1) * half))
  if (is_design) {
    w <- weights(des)[any]
    tt <- coef(tot)
    zhat <- rep(0, sum(any))
    for (k in ks) {
      r <- as.numeric(!is.na(d[[k]][any]))
      y <- d[[paste0("n_", k)]][any]
      p <- tt[[paste0("n_", k)]] / tt[[paste0("d_", k)]]
      zhat <- zhat + a[[k]] * r * (y - p) / sum(r)
    }
    vsrs <- sum(any) / sum(w) * sum(w * zhat^2)
    out$df <- df
    out$deff <- se^2 / vsrs
  }
  out
}

domain_values <- function(des, dom, is_design) {
  res <- list(criteria = list(), elements = list(), expectations = list())
  for (k in crit) res$criteria[[k]] <- one_prop(des, dom, k, is_design)
  res$general <- one_prop(des, dom, "HL", is_design)
  res$expectations$MD1 <- list(top = one_prop(des, dom, "MD1_top", is_design),
                               top_two = one_prop(des, dom, "MD1_top_two", is_design))
  a_all <- list()
  for (e in names(elements)) {
    ks <- elements[[e]]
    a <- setNames(as.list(rep(1 / length(ks), length(ks))), ks)
    res$elements[[e]] <- composite(des, dom, ks, element_expr[[e]], a, is_design)
    for (k in ks) a_all[[k]] <- 1 / (length(ks) * length(elements))
  }
  res$overall <- composite(des, dom, crit, overall_expr, a_all, is_design)
  res
}

out <- list(confidence = conf, designs = list())
for (name in names(designs)) {
  des <- designs[[name]]
  is_design <- name != "srs"
  groups <- list(list(keys = setNames(list(), character(0)),
                      values = domain_values(des, rep(TRUE, nrow(d)), is_design)))
  for (by in c("unit", "quarter")) {
    for (level in sort(unique(d[[by]]))) {
      keys <- setNames(list(level), by)
      groups[[length(groups) + 1]] <- list(keys = keys,
                                           values = domain_values(des, d[[by]] == level, is_design))
    }
  }
  out$designs[[name]] <- list(df = if (is_design) degf(des) else NULL, groups = groups)
}

# svyby agrees with the des[domain, ] computations used above (domain estimation).
full <- designs$full
by_tot <- svyby(as.formula(paste0("~", paste0("n_", crit, " + d_", crit, collapse = " + "))),
                ~unit, full, svytotal, covmat = TRUE)
for (level in sort(unique(d$unit))) {
  expr <- gsub("([nd]_[A-Z]+[0-9]+)", paste0("`", level, ":\\1`"), overall_expr)
  by_est <- svycontrast(by_tot, parse(text = expr)[[1]])
  sub_est <- composite(full, d$unit == level, crit, overall_expr, NULL, FALSE)
  stopifnot(isTRUE(all.equal(as.numeric(coef(by_est)), as.numeric(sub_est$value), tolerance = 1e-12)))
  stopifnot(isTRUE(all.equal(as.numeric(SE(by_est)), as.numeric(sub_est$se), tolerance = 1e-12)))
}
by_kg <- svyby(~y_TC1, ~unit, full[!is.na(d$TC1), ], svyciprop, method = "beta", vartype = "ci")
for (level in sort(unique(d$unit))) {
  ref <- one_prop(full, d$unit == level, "TC1", TRUE)$ci
  stopifnot(isTRUE(all.equal(unname(as.numeric(by_kg[level, c("ci_l", "ci_u")])), ref,
                             tolerance = 1e-12)))
}

out$generated_by <- paste("R", getRversion(), "survey", packageVersion("survey"))
write_json(out, file.path(here, "r_values.json"), auto_unbox = TRUE, digits = NA,
           pretty = TRUE, null = "null", na = "null")
cat("wrote", file.path(here, "r_values.json"), "\n")
