# Reference values for a unit against the rest as two domains of one design (issue 20),
# produced with R's survey package: svytotal of the domain numerators and denominators,
# then svycontrast of the difference of ratios (the delta method; linearisation).
# Run from the repository root:  Rscript tests/analysis/reference/rest_reference.R
# Reads rest_fixture.csv (make_rest_fixture.py), writes rest_reference.json (committed).
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail")

d <- read.csv("tests/analysis/reference/rest_fixture.csv", stringsAsFactors = FALSE)
items <- c("DG1", "DG2", "DG3", "HL")
units <- sort(unique(d$unit))
for (u in units) for (k in items) {
  answered <- !is.na(d[[k]])
  sat <- answered & d[[k]] >= 2  # tt01-counter: the top two of three levels
  d[[paste0("rU_", k, "_", u)]] <- as.numeric(answered & d$unit == u)
  d[[paste0("yU_", k, "_", u)]] <- as.numeric(sat & d$unit == u)
  d[[paste0("rR_", k, "_", u)]] <- as.numeric(answered & d$unit != u)
  d[[paste0("yR_", k, "_", u)]] <- as.numeric(sat & d$unit != u)
}

designs <- list(
  srs = svydesign(ids = ~1, data = d),
  weights = svydesign(ids = ~1, weights = ~weight, data = d),
  unit_psus = svydesign(ids = ~psu_unit, strata = ~stratum, weights = ~weight, data = d, nest = TRUE),
  shared_psus = svydesign(ids = ~psu_shared, strata = ~stratum, weights = ~weight, data = d, nest = TRUE)
)

ratio <- function(side, k, u) sprintf("(%s_%s_%s/%s_%s_%s)", paste0("y", side), k, u, paste0("r", side), k, u)
element <- function(side, u) sprintf("((%s)/3)", paste(sapply(c("DG1", "DG2", "DG3"), ratio, side = side, u = u),
                                                      collapse = " + "))

out <- list()
for (name in names(designs)) {
  des <- designs[[name]]
  vars <- grep("^[ry][UR]_", names(d), value = TRUE)
  tot <- svytotal(as.formula(paste("~", paste(vars, collapse = " + "))), des)
  per_unit <- list()
  for (u in units) {
    exprs <- list(
      general = parse(text = paste(ratio("U", "HL", u), "-", ratio("R", "HL", u)))[[1]],
      overall = parse(text = paste(element("U", u), "-", element("R", u)))[[1]],
      DG1 = parse(text = paste(ratio("U", "DG1", u), "-", ratio("R", "DG1", u)))[[1]],
      DG2 = parse(text = paste(ratio("U", "DG2", u), "-", ratio("R", "DG2", u)))[[1]],
      DG3 = parse(text = paste(ratio("U", "DG3", u), "-", ratio("R", "DG3", u)))[[1]]
    )
    con <- svycontrast(tot, exprs)
    sides <- svycontrast(tot, list(
      general_unit = parse(text = ratio("U", "HL", u))[[1]],
      general_rest = parse(text = ratio("R", "HL", u))[[1]],
      overall_unit = parse(text = element("U", u))[[1]],
      overall_rest = parse(text = element("R", u))[[1]]))
    per_unit[[u]] <- list(difference = as.list(100 * coef(con)), se = as.list(100 * SE(con)),
                          sides = as.list(100 * coef(sides)))
  }
  out[[name]] <- list(df = degf(des), units = per_unit)
}
to_json <- function(x) {
  # minimal JSON writer (jsonlite may be absent), as in compare_reference.R
  enc <- function(v) {
    if (is.list(v)) {
      if (is.null(names(v))) return(paste0("[", paste(sapply(v, enc), collapse = ", "), "]"))
      return(paste0("{", paste(sprintf("\"%s\": %s", names(v), sapply(v, enc)), collapse = ", "), "}"))
    }
    formatC(unname(v), digits = 15, format = "g")
  }
  enc(x)
}
writeLines(to_json(out), "tests/analysis/reference/rest_reference.json")
