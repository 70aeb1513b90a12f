package lb.control;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** One-line, timestamped log records to standard error: control-plane events only, never per packet. */
public final class Log
{
    private Log()
    {
    }

    public static void info(final String message)
    {
        System.err.println(Instant.now().truncatedTo(ChronoUnit.MILLIS) + " lb: " + message);
    }
}
