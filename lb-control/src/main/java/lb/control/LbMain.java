package lb.control;

import lb.control.appliance.Appliance;
import lb.control.config.LbConfig;
import lb.dataplane.io.PacketIoException;
import org.agrona.concurrent.ShutdownSignalBarrier;

/** Entry point of the {@code lb} command. */
public final class LbMain
{
    static final String BOUNDS_CHECKS_PROPERTY = "agrona.disable.bounds.checks";

    private LbMain()
    {
    }

    /**
     * @param args the command-line arguments; see {@code lb --help}.
     */
    public static void main(final String[] args)
    {
        // Agrona checks every buffer access against the buffer's bounds; the dataplane checks frame
        // lengths itself (the classifier never reads outside a frame, which the tests show with
        // Agrona's checks on), so the second check only costs time: about a third of the per-packet
        // work with the flow table in cache (benchmarks/RESULTS.md). It must be set before any Agrona
        // class loads; an explicit -Dagrona.disable.bounds.checks=false keeps the checks.
        if (System.getProperty(BOUNDS_CHECKS_PROPERTY) == null)
        {
            System.setProperty(BOUNDS_CHECKS_PROPERTY, "true");
        }
        System.exit(LbCommand.run(LbMain::run, args));
    }

    /** Runs the appliance until SIGINT or SIGTERM, then prints its counters to standard output. */
    private static int run(final LbConfig config)
    {
        final Appliance appliance;
        try
        {
            appliance = Appliance.start(config);
        }
        catch (final PacketIoException ex)
        {
            System.err.println("lb: " + ex.getMessage());
            return 1;
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("lb: " + ex.getMessage());
            return 2;
        }
        catch (final RuntimeException | OutOfMemoryError ex)
        {
            // Anything else that stops the start (out of direct memory, a refused mmap): still one line.
            System.err.println("lb: cannot start: " + (ex.getMessage() != null ? ex.getMessage() : ex.getClass().getSimpleName()));
            return 1;
        }
        final ShutdownSignalBarrier barrier = new ShutdownSignalBarrier();
        barrier.await();
        Log.info("stopping");
        appliance.close();
        appliance.printSummary(System.out);
        System.out.flush();
        System.err.flush();
        // A clean stop exits 0. The JVM's own exit after SIGTERM would say 143; the shutdown hook
        // that woke us still waits for the barrier, so halting here ends the process with our status.
        Runtime.getRuntime().halt(0);
        return 0;
    }
}
