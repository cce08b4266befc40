"""What goes out: grades.csv, each student's results.json (Gradescope) and feedback.html, the class summary,
and the nbgrader gradebook with the autograded notebooks. Reports only read results; none changes a score."""
