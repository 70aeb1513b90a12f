package lb.dataplane.pipeline;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;

/**
 * {@link PipelineFuzzTest} for Jazzer's own command line (long runs, see benchmarks/RESULTS.md):
 * a class without {@code @FuzzTest}, so the run takes libFuzzer's flags (-runs, -max_total_time)
 * instead of the annotation's CI duration.
 */
public final class PipelineFuzzer
{
    private PipelineFuzzer()
    {
    }

    public static void fuzzerTestOneInput(final FuzzedDataProvider data)
    {
        PipelineFuzzTest.fuzzerTestOneInput(data);
    }
}
