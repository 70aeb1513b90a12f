package lb.control.config;

import lb.dataplane.spread.SpreadPolicy;

/**
 * Writes an {@link LbConfig} in the config file format of {@link ConfigParser}, every setting
 * spelt out including defaults, so what it prints is the effective configuration and parses back
 * to an equal {@link LbConfig}.
 */
public final class ConfigWriter
{
    private ConfigWriter()
    {
    }

    /**
     * @param config a configuration.
     * @return it as config file text.
     */
    public static String format(final LbConfig config)
    {
        final StringBuilder out = new StringBuilder(256 + 64 * config.services().size());
        line(out, "client-interface " + config.clientInterface());
        line(out, "server-interface " + config.serverInterface());
        line(out, "client-ip " + IpAddresses.format(config.clientIp()));
        line(out, "gateway-ip " + IpAddresses.format(config.gatewayIp()));
        final Ipv6Config ipv6 = config.ipv6();
        if (ipv6.clientIp6() != 0)
        {
            line(out, "client-ip6 " + IpAddresses.format(ipv6.clientIp6()));
        }
        if (ipv6.gatewayIp6() != 0)
        {
            line(out, "gateway-ip6 " + IpAddresses.format(ipv6.gatewayIp6()));
        }
        line(out, "probe-interval " + Values.formatDuration(config.probe().interval()));
        line(out, "probe-timeout " + Values.formatDuration(config.probe().timeout()));
        line(out, "probe-retries " + config.probe().retries());
        line(out, "timeout tcp-syn " + Values.formatDuration(config.timeouts().tcpSyn()));
        line(out, "timeout tcp-established " + Values.formatDuration(config.timeouts().tcpEstablished()));
        line(out, "timeout tcp-closing " + Values.formatDuration(config.timeouts().tcpClosing()));
        line(out, "timeout udp " + Values.formatDuration(config.timeouts().udp()));
        line(out, "flow-capacity " + config.flowCapacity());
        line(out, "flow-table-size6 " + ipv6.flowTableSize6());
        line(out, "idle-strategy " + config.idleStrategy().configName());
        line(out, "idle-spin " + Values.formatIdleSpin(config.idleSpin()));
        line(out, "rx-ring " + config.rxRing().version().configName() + " frame-size " + config.rxRing().frameSize() +
            " frame-count " + config.rxRing().frameCount());
        line(out, "workers " + config.workers());
        line(out, "worker-cpus " + Values.formatWorkerCpus(config.workerCpus()));
        line(out, "control-socket " + config.controlSocket());
        if (config.serverNetwork() != null)
        {
            line(out, "server-network " + config.serverNetwork());
        }
        if (ipv6.serverNetwork6() != null)
        {
            line(out, "server-network6 " + ipv6.serverNetwork6());
        }
        final BgpConfig bgp = config.bgp();
        if (bgp != null)
        {
            line(out, "bgp-local " + IpAddresses.format(bgp.localIp()) + " " + bgp.localAs());
            line(out, "bgp-neighbor " + IpAddresses.format(bgp.neighborIp()) + " " + bgp.neighborAs());
            line(out, "bgp-next-hop " + IpAddresses.format(bgp.nextHop()));
            line(out, "bgp-bfd " + (bgp.bfd() ? "on" : "off"));
            line(out, "bgp-hold-time " + Values.formatDuration(bgp.holdTime()));
            line(out, "bird " + bgp.bird());
            line(out, "bird-dir " + bgp.runDir());
        }

        final int defaultTableSize = Values.maglevTableSize(ConfigDefaults.MAGLEV_TABLE_SIZE);
        for (final ServiceConfig service : config.services())
        {
            out.append('\n');
            line(out, "service " + service.name() + " " + service.key());
            line(out, "  scheduler " + service.scheduler());
            line(out, "  mode " + service.mode().configName());
            if (service.scheduler().equals("maglev") || service.maglevTableSize() != defaultTableSize)
            {
                line(out, "  maglev-table-size " + service.maglevTableSize());
            }
            final TcpCheckConfig check = service.check();
            if (check != null)
            {
                line(out, "  check tcp");
                if (check.port() != TcpCheckConfig.BACKEND_PORT)
                {
                    line(out, "  check-port " + check.port());
                }
                line(out, "  check-interval " + Values.formatDuration(check.interval()));
                line(out, "  check-timeout " + Values.formatDuration(check.timeout()));
                line(out, "  check-rise " + check.rise());
                line(out, "  check-fall " + check.fall());
            }
            for (final BackendConfig backend : service.backends())
            {
                line(out, "  backend " + Values.formatBackend(backend.ip(), backend.port()) + " weight " + backend.weight());
            }
        }
        for (final RouteConfig route : config.routes())
        {
            out.append('\n');
            line(out, "route " + route.name() + " " + route.prefix());
            line(out, "  policy " + route.policy().configName());
            if (route.policy() == SpreadPolicy.LEAST_FLOWS)
            {
                line(out, "  rebalance " + (route.rebalance() ? "on" : "off"));
            }
            if (route.policy() == SpreadPolicy.FLOWLET)
            {
                line(out, "  flowlet-gap " + Values.formatDuration(route.flowletGap()));
            }
            for (final int hop : route.nextHops())
            {
                line(out, "  next-hop " + IpAddresses.format(hop));
            }
        }
        return out.toString();
    }

    private static void line(final StringBuilder out, final String line)
    {
        out.append(line).append('\n');
    }
}
