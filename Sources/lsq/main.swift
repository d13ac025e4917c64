print("lsq")
