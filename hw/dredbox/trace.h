#include "trace/trace-hw_dredbox.h"
