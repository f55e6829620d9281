package dev.baton.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.bpf.abi.AbiTypes;
import dev.baton.bpf.abi.BatonLive;
import dev.baton.bpf.abi.Field;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AbiTest {
    // Stand-ins for generated classes: the same public constants AbiGen writes.
    public static final class Pair {
        public static final String C_NAME = "baton_pair";
        public static final long SIZEOF = 8;
        public static final List<Field> FIELDS = List.of(new Field("a", 0, 4, "u32"), new Field("b", 4, 4, "u32"));
    }

    /** Pair with its members swapped: every size the same, the bytes in other places. */
    public static final class Swapped {
        public static final String C_NAME = "baton_pair";
        public static final long SIZEOF = 8;
        public static final List<Field> FIELDS = List.of(new Field("b", 0, 4, "u32"), new Field("a", 4, 4, "u32"));
    }

    /** Pair with a member's type changed in place: the same name, offset and size. */
    public static final class Signed {
        public static final String C_NAME = "baton_pair";
        public static final long SIZEOF = 8;
        public static final List<Field> FIELDS = List.of(new Field("a", 0, 4, "s32"), new Field("b", 4, 4, "u32"));
    }

    public static final class Kind {
        public static final String C_NAME = "baton_kind";
        public static final Map<String, Long> VALUES = values(1, 2);
    }

    /** Kind renumbered: the same names, the same count. */
    public static final class Renumbered {
        public static final String C_NAME = "baton_kind";
        public static final Map<String, Long> VALUES = values(2, 1);
    }

    public static final class Other {
        public static final String C_NAME = "baton_other";
        public static final long SIZEOF = 4;
        public static final List<Field> FIELDS = List.of(new Field("x", 0, 4, "u32"));
    }

    private static Map<String, Long> values(long first, long second) {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("BATON_KIND_FIRST", first);
        m.put("BATON_KIND_SECOND", second);
        return m;
    }

    @Test
    void whatMovesABytePastTheSizeCheckChangesTheFingerprint() {
        long base = Abi.fingerprint(List.of(Pair.class), List.of(Kind.class));

        assertThat(Abi.fingerprint(List.of(Swapped.class), List.of(Kind.class))).isNotEqualTo(base);
        assertThat(Abi.fingerprint(List.of(Signed.class), List.of(Kind.class))).isNotEqualTo(base);
        assertThat(Abi.fingerprint(List.of(Pair.class), List.of(Renumbered.class))).isNotEqualTo(base);
        assertThat(Abi.fingerprint(List.of(Pair.class, Other.class), List.of(Kind.class))).isNotEqualTo(base);
    }

    @Test
    void theFingerprintDependsOnTheTypesNotTheirOrder() {
        assertThat(Abi.fingerprint(List.of(Pair.class, Other.class), List.of(Kind.class)))
                .isEqualTo(Abi.fingerprint(List.of(Other.class, Pair.class), List.of(Kind.class)));
    }

    @Test
    void thisBuildsFingerprintCoversEveryGeneratedType() {
        String text = Abi.canonical(AbiTypes.STRUCTS, AbiTypes.ENUMS);

        assertThat(text.lines()).hasSize(AbiTypes.STRUCTS.size() + AbiTypes.ENUMS.size());
        assertThat(text).contains("struct baton_live " + BatonLive.SIZEOF + " { abi_fingerprint@0:8:u64 ");
        assertThat(Abi.FINGERPRINT).isNotZero().isEqualTo(Abi.fingerprint(AbiTypes.STRUCTS, AbiTypes.ENUMS));
    }

    @Test
    void aClassThatIsNotAGeneratedTypeIsRefused() {
        assertThatThrownBy(() -> Abi.fingerprint(List.of(String.class), List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("java.lang.String is not a generated ABI type");
    }
}
