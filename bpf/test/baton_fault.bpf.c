/*
 * Baton's scheduler with its test-only fault compiled in: it stops dispatching a class, so the
 * kernel's watchdog ejects it (the fault VM test). Never shipped: the agent's jar and the
 * installer carry only baton.bpf.o, where the fault does not exist.
 */
#define BATON_TEST_FAULTS
#include "../baton.bpf.c"
