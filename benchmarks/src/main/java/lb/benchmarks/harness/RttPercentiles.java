package lb.benchmarks.harness;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import org.HdrHistogram.Histogram;

/**
 * The testbed harness's latency percentiles: reads the per-message log of a sockperf ping-pong run
 * ({@code --full-log}: a CSV with one round trip per line, {@code packet, txTime(sec),
 * rxTime(sec), rtt(usec)}, between header and footer lines of dashes and text) into an
 * HdrHistogram and prints, per file, one JSON line with the count and p50, p99, p99.9 and max in
 * microseconds.
 * <p>
 * {@code java -cp benchmarks/target/benchmarks.jar lb.benchmarks.harness.RttPercentiles FILE...}
 */
public final class RttPercentiles
{
    /** Round trips longer than this are clamped to it (a minute: far beyond any test). */
    static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** 0.1% resolution: the p99.9 of a 100 us RTT is exact to 0.1 us. */
    static final int SIGNIFICANT_DIGITS = 3;

    private RttPercentiles()
    {
    }

    public static void main(final String[] args) throws IOException
    {
        if (args.length == 0)
        {
            System.err.println("usage: RttPercentiles SOCKPERF_FULL_LOG...");
            System.exit(2);
        }
        for (final String file : args)
        {
            System.out.println(json(file, read(Path.of(file))));
        }
    }

    /**
     * @param file a sockperf full log.
     * @return its round trips, in nanoseconds.
     * @throws IOException if it cannot be read, or has no header line or a malformed data line.
     */
    static Histogram read(final Path file) throws IOException
    {
        final Histogram histogram = new Histogram(HIGHEST_NANOS, SIGNIFICANT_DIGITS);
        boolean inData = false;
        int lineNumber = 0;
        try (BufferedReader reader = Files.newBufferedReader(file))
        {
            String line;
            while ((line = reader.readLine()) != null)
            {
                lineNumber++;
                if (!inData)
                {
                    inData = line.startsWith("packet,");
                    continue;
                }
                if (line.startsWith("---"))
                {
                    break;
                }
                histogram.recordValue(Math.min(HIGHEST_NANOS, rttNanos(line, file, lineNumber)));
            }
        }
        if (!inData)
        {
            throw new IOException(file + ": no 'packet, txTime(sec), rxTime(sec), rtt(usec)' header");
        }
        return histogram;
    }

    private static long rttNanos(final String line, final Path file, final int lineNumber) throws IOException
    {
        final int comma = line.lastIndexOf(',');
        double micros = -1;
        try
        {
            micros = comma < 0 ? -1 : Double.parseDouble(line.substring(comma + 1).trim());
        }
        catch (final NumberFormatException ex)
        {
            micros = -1;
        }
        if (!(micros >= 0))
        {
            throw new IOException(file + ":" + lineNumber + ": not 'packet, txTime, rxTime, rtt': " + line);
        }
        return Math.round(micros * 1_000.0);
    }

    static String json(final String file, final Histogram h)
    {
        return String.format(Locale.ROOT,
            "{\"file\": \"%s\", \"count\": %d, \"p50\": %.3f, \"p99\": %.3f, \"p999\": %.3f, \"max\": %.3f}",
            file.replace("\\", "\\\\").replace("\"", "\\\""), h.getTotalCount(),
            micros(h, 50.0), micros(h, 99.0), micros(h, 99.9), h.getTotalCount() == 0 ? 0.0 : h.getMaxValue() / 1_000.0);
    }

    private static double micros(final Histogram h, final double percentile)
    {
        return h.getTotalCount() == 0 ? 0.0 : h.getValueAtPercentile(percentile) / 1_000.0;
    }
}
