"""Feedback cases (phản ánh, kiến nghị): a comment a citizen marks as a complaint or a request
becomes a case with a handling deadline, assigned to the unit, closed with an outcome, and
followed by the citizen with the case number or the survey code, still anonymously."""
