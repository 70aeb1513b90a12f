package lb.control;

import lb.control.config.ConfigWriter;
import lb.control.config.LbConfig;

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
        System.exit(LbCommand.run(LbMain::printConfig, args));
    }

    /** Stands in for the appliance until it is built: shows the configuration it would run. */
    private static int printConfig(final LbConfig config)
    {
        System.out.println("# lb: the appliance is not built yet; it would run this configuration:");
        System.out.print(ConfigWriter.format(config));
        System.out.flush();
        return 0;
    }
}
