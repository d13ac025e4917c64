// SolverService: placeholder until its issue lands; replaced by the real module.
