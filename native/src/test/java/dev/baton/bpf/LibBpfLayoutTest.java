package dev.baton.bpf;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The libbpf structs LibBpf spells out by hand must match what the installed libbpf headers say:
 * compiles a C program that prints sizeof and offsetof for every named member, and compares.
 */
class LibBpfLayoutTest {
    private static final Map<String, StructLayout> STRUCTS = Map.of(
            "bpf_object_open_opts", LibBpf.bpf_object_open_opts.LAYOUT,
            "bpf_test_run_opts", LibBpf.bpf_test_run_opts.LAYOUT,
            "bpf_map_batch_opts", LibBpf.bpf_map_batch_opts.LAYOUT);

    @Test
    void handWrittenLayoutsMatchTheLibbpfHeaders(@TempDir Path dir) throws IOException, InterruptedException {
        Map<String, Long> expected = new LinkedHashMap<>();
        StringBuilder c = new StringBuilder("""
                #include <stddef.h>
                #include <stdio.h>
                #include <bpf/bpf.h>
                #include <bpf/libbpf.h>
                int main(void) {
                """);
        STRUCTS.forEach((struct, layout) -> {
            expected.put(struct + " sizeof", layout.byteSize());
            c.append("printf(\"%s sizeof %%zu\\n\", sizeof(struct %s));\n".formatted(struct, struct));
            for (MemoryLayout member : layout.memberLayouts()) {
                member.name().ifPresent(field -> {
                    expected.put(struct + " " + field, layout.byteOffset(MemoryLayout.PathElement.groupElement(field)));
                    c.append("printf(\"%s %s %%zu\\n\", offsetof(struct %s, %s));\n"
                            .formatted(struct, field, struct, field));
                });
            }
        });
        c.append("return 0;\n}\n");
        Path src = Files.writeString(dir.resolve("layouts.c"), c);
        Path exe = dir.resolve("layouts");

        // tools/setup.sh installs both; a missing one is a broken set-up, not a reason to skip.
        assertThat(run(dir, "cc", "-o", exe.toString(), src.toString())).as("a C compiler with libbpf headers")
                .startsWith("exit 0");
        String out = run(dir, exe.toString());
        assertThat(out).startsWith("exit 0");
        Map<String, Long> actual = out.lines().skip(1)
                .collect(Collectors.toMap(l -> l.substring(0, l.lastIndexOf(' ')),
                        l -> Long.parseLong(l.substring(l.lastIndexOf(' ') + 1))));
        assertThat(actual).containsExactlyInAnyOrderEntriesOf(expected);
    }

    /** "exit N" and the command's output, one line each. */
    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            return "exit 127 " + e.getMessage();
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return "exit " + p.exitValue() + "\n" + output;
    }
}
