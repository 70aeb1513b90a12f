package lb.control;

import lb.control.appliance.Appliance;
import lb.control.config.LbConfig;
import lb.dataplane.io.PacketIoException;
import org.agrona.concurrent.ShutdownSignalBarrier;

/** Entry point of the {@code lb} command. */
public final class LbMain
{
    private LbMain()
    {
    }

    /**
     * @param args the command-line arguments; see {@code lb --help}.
     */
    public static void main(final String[] args)
    {
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
        try (ShutdownSignalBarrier barrier = new ShutdownSignalBarrier())
        {
            barrier.await();
            Log.info("stopping");
            appliance.close();
            appliance.printSummary(System.out);
            System.out.flush();
        }
        return 0;
    }
}
