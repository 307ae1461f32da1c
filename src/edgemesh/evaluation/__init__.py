"""Grading HumanEval-format samples on the mesh."""
