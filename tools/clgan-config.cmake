# clgan-config.cmake - find_package(clgan) for an installed clgan: the imported targets
# clgan::clgan (libclgan.so) and clgan::clgan_static (libclgan.a and its dependencies).
# Both need OpenCL's headers and loader (Debian: ocl-icd-opencl-dev, opencl-c-headers).
include("${CMAKE_CURRENT_LIST_DIR}/clganTargets.cmake")
