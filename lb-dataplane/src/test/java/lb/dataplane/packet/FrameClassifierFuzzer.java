package lb.dataplane.packet;

/**
 * {@link FrameClassifierFuzzTest} for Jazzer's own command line (long runs, see
 * benchmarks/RESULTS.md): a class without {@code @FuzzTest}, so the run takes libFuzzer's flags
 * (-runs, -max_total_time) instead of the annotation's CI duration.
 */
public final class FrameClassifierFuzzer
{
    private FrameClassifierFuzzer()
    {
    }

    public static void fuzzerTestOneInput(final byte[] input)
    {
        FrameClassifierFuzzTest.check(input);
    }
}
