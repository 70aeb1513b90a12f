package lb.control;

import lb.control.config.LbConfig;

/**
 * Runs the appliance with a validated configuration. {@link LbCommand} parses and checks the
 * command line and config file, then hands over here; {@link LbMain} supplies the implementation.
 */
@FunctionalInterface
public interface ApplianceLauncher
{
    /**
     * Runs the appliance until it stops.
     *
     * @param config the validated configuration.
     * @return the process exit status.
     * @throws Exception if the appliance fails; it should report its own errors to the user first.
     */
    int launch(LbConfig config) throws Exception;
}
