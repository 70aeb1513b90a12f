package lb.benchmarks.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RttPercentilesTest
{
    @TempDir
    Path dir;

    /** A sockperf 3.7 full log: header, column line, data, footer (the layout it writes). */
    private Path log(final String data) throws IOException
    {
        final Path file = dir.resolve("full.csv");
        Files.writeString(file, String.join("\n",
            "------------------------------",
            "test was performed using the following parameters: --mps=600000 --burst=1 --msg-size=64 --time=2 --full-rtt",
            "------------------------------",
            "sockperf: ---> percentile 50.000 =   15.713",
            "------------------------------",
            "packet, txTime(sec), rxTime(sec), rtt(usec)",
            data,
            "------------------------------",
            ""));
        return file;
    }

    @Test
    void readsEveryRoundTripOfTheLog() throws IOException
    {
        final StringBuilder data = new StringBuilder();
        for (int i = 1; i <= 1000; i++)
        {
            // RTTs 1.000 .. 1000.000 us, shuffled order does not matter to a histogram.
            data.append(i - 1).append(", 2.4200").append(i).append(", 2.4201").append(i).append(", ")
                .append(i).append(".000").append(i == 1000 ? "" : "\n");
        }
        final Histogram h = RttPercentiles.read(log(data.toString()));

        assertEquals(1000, h.getTotalCount());
        assertEquals(500_000, h.getValueAtPercentile(50.0), 500_000 * 0.001);
        assertEquals(990_000, h.getValueAtPercentile(99.0), 990_000 * 0.001);
        assertEquals(999_000, h.getValueAtPercentile(99.9), 999_000 * 0.001);
        final String json = RttPercentiles.json("x.csv", h);
        assertTrue(json.startsWith("{\"file\": \"x.csv\", \"count\": 1000, \"p50\": 50"), json);
    }

    @Test
    void aMalformedLineNamesTheFileAndLine() throws IOException
    {
        final Path file = log("0, 2.1, 2.2, 15.5\n1, 2.3, 2.4, fast");
        final IOException ex = assertThrows(IOException.class, () -> RttPercentiles.read(file));
        assertEquals(file + ":8: not 'packet, txTime, rxTime, rtt': 1, 2.3, 2.4, fast", ex.getMessage());
    }

    @Test
    void aFileWithoutTheColumnLineIsAnError() throws IOException
    {
        final Path file = dir.resolve("empty.csv");
        Files.writeString(file, "sockperf: nothing measured\n");
        assertTrue(assertThrows(IOException.class, () -> RttPercentiles.read(file)).getMessage().contains("no 'packet,"));
    }
}
