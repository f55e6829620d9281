package dev.baton.bpf;

/** The libbpf that the bindings load (libbpf.so.1). */
public final class Libbpf {
    private Libbpf() {}

    /** {@code "major.minor"} of the loaded libbpf, e.g. {@code "1.4"}. */
    public static String version() throws BpfException {
        LibBpf.require();
        return LibBpf.libbpf_major_version() + "." + LibBpf.libbpf_minor_version();
    }

    /** CPUs the kernel may ever bring online: the number of slots in a per-CPU map value. */
    public static int possibleCpus() throws BpfException {
        LibBpf.require();
        int n = LibBpf.libbpf_num_possible_cpus();
        if (n < 0) {
            throw BpfException.of("libbpf_num_possible_cpus", "", n);
        }
        return n;
    }
}
