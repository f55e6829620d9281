/*
 * Baton's scheduler without its CPU hotplug callbacks: the kernel ends it whenever a CPU goes
 * offline or comes online and asks for a new one, as it does any scheduler without them. The
 * fault VM test uses it to see the agent honour that request. Never shipped.
 */
#define BATON_TEST_NO_HOTPLUG
#include "../baton.bpf.c"
