/* clerror.c - names for OpenCL and CLBlast error codes and the one formatter that turns
 * a failed call into "call failed: NAME (code) on device; what to do". */
#include "runtime_internal.h"

#include <stdio.h>

#define E(x) [-(x)] = #x
static const char *const cl_names[] = {
    E(CL_SUCCESS), E(CL_DEVICE_NOT_FOUND), E(CL_DEVICE_NOT_AVAILABLE),
    E(CL_COMPILER_NOT_AVAILABLE), E(CL_MEM_OBJECT_ALLOCATION_FAILURE),
    E(CL_OUT_OF_RESOURCES), E(CL_OUT_OF_HOST_MEMORY), E(CL_PROFILING_INFO_NOT_AVAILABLE),
    E(CL_MEM_COPY_OVERLAP), E(CL_IMAGE_FORMAT_MISMATCH), E(CL_IMAGE_FORMAT_NOT_SUPPORTED),
    E(CL_BUILD_PROGRAM_FAILURE), E(CL_MAP_FAILURE), E(CL_MISALIGNED_SUB_BUFFER_OFFSET),
    E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST), E(CL_COMPILE_PROGRAM_FAILURE),
    E(CL_LINKER_NOT_AVAILABLE), E(CL_LINK_PROGRAM_FAILURE), E(CL_DEVICE_PARTITION_FAILED),
    E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE), E(CL_INVALID_VALUE), E(CL_INVALID_DEVICE_TYPE),
    E(CL_INVALID_PLATFORM), E(CL_INVALID_DEVICE), E(CL_INVALID_CONTEXT),
    E(CL_INVALID_QUEUE_PROPERTIES), E(CL_INVALID_COMMAND_QUEUE), E(CL_INVALID_HOST_PTR),
    E(CL_INVALID_MEM_OBJECT), E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR), E(CL_INVALID_IMAGE_SIZE),
    E(CL_INVALID_SAMPLER), E(CL_INVALID_BINARY), E(CL_INVALID_BUILD_OPTIONS),
    E(CL_INVALID_PROGRAM), E(CL_INVALID_PROGRAM_EXECUTABLE), E(CL_INVALID_KERNEL_NAME),
    E(CL_INVALID_KERNEL_DEFINITION), E(CL_INVALID_KERNEL), E(CL_INVALID_ARG_INDEX),
    E(CL_INVALID_ARG_VALUE), E(CL_INVALID_ARG_SIZE), E(CL_INVALID_KERNEL_ARGS),
    E(CL_INVALID_WORK_DIMENSION), E(CL_INVALID_WORK_GROUP_SIZE), E(CL_INVALID_WORK_ITEM_SIZE),
    E(CL_INVALID_GLOBAL_OFFSET), E(CL_INVALID_EVENT_WAIT_LIST), E(CL_INVALID_EVENT),
    E(CL_INVALID_OPERATION), E(CL_INVALID_GL_OBJECT), E(CL_INVALID_BUFFER_SIZE),
    E(CL_INVALID_MIP_LEVEL), E(CL_INVALID_GLOBAL_WORK_SIZE), E(CL_INVALID_PROPERTY),
    E(CL_INVALID_IMAGE_DESCRIPTOR), E(CL_INVALID_COMPILER_OPTIONS), E(CL_INVALID_LINKER_OPTIONS),
    E(CL_INVALID_DEVICE_PARTITION_COUNT),
};
#undef E

const char *clgan_cl_error_str(cl_int err)
{
    if (err <= 0 && -err < (cl_int)(sizeof cl_names / sizeof cl_names[0]) && cl_names[-err])
        return cl_names[-err];
    if (err == -1001)
        return "CL_PLATFORM_NOT_FOUND_KHR";
    return "CL_UNKNOWN_ERROR";
}

static const char *cl_hint(cl_int err)
{
    switch (err) {
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
    case CL_OUT_OF_RESOURCES:
    case CL_OUT_OF_HOST_MEMORY:
    case CL_INVALID_BUFFER_SIZE:
        return "the device ran out of memory: try a smaller --batch or another --device";
    case CL_BUILD_PROGRAM_FAILURE:
        return "the kernel build log is printed above";
    case CL_DEVICE_NOT_AVAILABLE:
        return "the device is busy or disabled: pick another with --device (see 'clgan devices')";
    default:
        return "rerun with CLGAN_SYNC=1 to name the failing kernel, and report it";
    }
}

clgan_status clgan_cl_fail(const clgan_ctx *ctx, const char *call, cl_int err)
{
    return clgan_error(CLGAN_ECL, "%s failed: %s (%d) on %s; %s", call,
                       clgan_cl_error_str(err), (int)err,
                       ctx ? ctx->view.dev.name : "no device", cl_hint(err));
}

/* CLBlast's status codes that are not OpenCL codes (clblast_c.h). */
const char *clgan_clblast_error_str(int code)
{
    switch (code) {
    case -1024: return "CLBlastNotImplemented";
    case -1022: return "CLBlastInvalidMatrixA";
    case -1021: return "CLBlastInvalidMatrixB";
    case -1020: return "CLBlastInvalidMatrixC";
    case -1019: return "CLBlastInvalidVectorX";
    case -1018: return "CLBlastInvalidVectorY";
    case -1017: return "CLBlastInvalidDimension";
    case -1016: return "CLBlastInvalidLeadDimA";
    case -1015: return "CLBlastInvalidLeadDimB";
    case -1014: return "CLBlastInvalidLeadDimC";
    case -1013: return "CLBlastInvalidIncrementX";
    case -1012: return "CLBlastInvalidIncrementY";
    case -1011: return "CLBlastInsufficientMemoryA";
    case -1010: return "CLBlastInsufficientMemoryB";
    case -1009: return "CLBlastInsufficientMemoryC";
    case -1008: return "CLBlastInsufficientMemoryX";
    case -1007: return "CLBlastInsufficientMemoryY";
    case -2049: return "CLBlastInsufficientMemoryTemp";
    case -2048: return "CLBlastInvalidBatchCount";
    case -2047: return "CLBlastInvalidOverrideKernel";
    case -2046: return "CLBlastMissingOverrideParameter";
    case -2045: return "CLBlastInvalidLocalMemUsage";
    case -2044: return "CLBlastNoHalfPrecision";
    case -2043: return "CLBlastNoDoublePrecision";
    case -2042: return "CLBlastInvalidVectorScalar";
    case -2041: return "CLBlastInsufficientMemoryScalar";
    case -2040: return "CLBlastDatabaseError";
    case -2039: return "CLBlastUnknownError";
    case -2038: return "CLBlastUnexpectedError";
    default: return clgan_cl_error_str(code);
    }
}
