"""Pure numpy kernels: the science of Mine Eco, free of QGIS and of files."""
