package lb.control.config;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Reads the lb config file: line-oriented, in the spirit of HAProxy's.
 *
 * <h2>Format</h2>
 * Each line is a directive and its values separated by white space. {@code #} starts a comment
 * that runs to the end of the line; blank lines are ignored. Indentation has no meaning (indent
 * service lines for the reader). Global settings come first, then one section per service that
 * runs until the next {@code service} line; a global setting inside a service section is an error,
 * so nothing can look per-service that is not.
 * <pre>
 * # global settings (the four addresses and interfaces are required)
 * client-interface NAME            # the client side, where the VIPs live
 * server-interface NAME            # the server side, where the backends live
 * client-ip IP                     # lb's own address on the client side
 * gateway-ip IP                    # lb's address on the server side: the backends' default route
 * client-ip6 IPV6                  # lb's own IPv6 address on the client side (needed by IPv6 services)
 * gateway-ip6 IPV6                 # lb's IPv6 address on the server side: the IPv6 backends' default route
 * probe-interval DURATION          # one ARP probe cycle across all backends (5s)
 * probe-timeout DURATION           # a probe's wait for its reply (3s)
 * probe-retries N                  # probes sent again before a backend is down, 0..10 (1)
 * timeout tcp-syn DURATION         # idle timeouts of flows by state (30s,
 * timeout tcp-established DURATION #   300s,
 * timeout tcp-closing DURATION     #   10s,
 * timeout udp DURATION             #   60s)
 * flow-capacity N                  # flow table capacity, 1024..12500000 (1048576)
 * flow-table-size6 N               # IPv6 flow table entries, 1024..8388608 (262144; a NAT flow takes two)
 * idle-strategy backoff|spin|yield # a worker with nothing to do (backoff)
 * idle-spin 0|DURATION             # backoff: spin this long (us or ms) before sleeping (20us)
 * rx-ring v2|v3 [frame-size N] [frame-count N]   # receive ring (v2 frame-size 2048 frame-count 4096)
 * workers N                        # dataplane worker threads, 1..64 (1)
 * worker-cpus none|CPU[,CPU...]    # pin worker i to the i-th CPU (none)
 * control-socket PATH              # control interface's unix socket (/run/lb/lb.sock)
 * server-network PREFIX            # the server-side LAN, e.g. 198.18.1.0/24 (needed by dsr services)
 * server-network6 PREFIX           # the server-side IPv6 LAN, e.g. 2001:2:0:1::/64 (needed by IPv6 dsr services)
 * bgp-local IP AS                  # announce the VIPs over BGP from this management address and AS
 * bgp-neighbor IP AS               #   to this router (both needed to announce)
 * bgp-next-hop IP                  #   routes point at this address (client-ip)
 * bgp-bfd on|off                   #   BFD on the session, 100 ms x 3 (on)
 * bgp-hold-time DURATION           #   BGP hold time, keepalive a third (3s)
 * bird PATH                        #   the BIRD 2 binary lb runs as its child (/usr/sbin/bird)
 * bird-dir PATH                    #   BIRD's config, socket and log (control-socket + ".bird")
 *
 * # one section per service, at least one
 * service NAME VIP:PORT/tcp|udp                 # an IPv6 VIP in brackets: [2001:2::100]:80/tcp
 *   scheduler random|rr|wrr|lc|wlc|sh|maglev      # (wlc)
 *   mode nat|dsr|ipip                             # how packets reach the backends (nat)
 *   maglev-table-size PRIME                       # maglev only (65537)
 *   backend IP[:PORT] [weight 0..10000]           # port defaults to the service port, weight to 1; IPv6: IP or [IP]:PORT
 *   check tcp|none                                # TCP health check of every backend (none: ARP only)
 *   check-port PORT                               #   the port checked (each backend's own)
 *   check-interval DURATION                       #   from one check of a backend to the next (1s)
 *   check-timeout DURATION                        #   wait for the SYN-ACK or RST (1s)
 *   check-rise N                                  #   passes in a row to come back, 1..100 (2)
 *   check-fall N                                  #   failures in a row to go out, 1..100 (2)
 *
 * # route sections (optional): lb as the clients' router for a prefix, spread over next hops
 * route NAME PREFIX                               # e.g. route far 198.19.0.0/16 (needs server-network), or
 *                                                 #   route far6 2001:2:0:3::/64 (needs server-network6, client-ip6, gateway-ip6)
 *   next-hop IP                                   # one line per next hop, on the server-side LAN, of the prefix's family
 *   policy packet|flow-random|flow-hash|least-flows|flowlet   # (flow-hash)
 *   rebalance on|off                              # least-flows only: seed 002's rebalancing (off)
 *   flowlet-gap DURATION                          # flowlet only: idle gap before a flow may move (10ms)
 * </pre>
 * Durations are a whole number with a unit: {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}.
 * IPv4 addresses are dotted quads of four decimal parts, IPv6 ones RFC 4291 text (printed back in
 * RFC 5952 form); a service's backends are of its VIP's family. Each setting may appear once per scope.
 *
 * <h2>Errors</h2>
 * Every error is one line naming the file, the line and the field, for example
 * {@code lb.conf:12: backend weight: expected an integer 0..10000, got 'x'}, thrown as a
 * {@link ConfigException}. Parsing stops at the first error.
 */
public final class ConfigParser
{
    private static final List<String> TIMEOUT_KINDS = List.of("tcp-syn", "tcp-established", "tcp-closing", "udp");

    private final String fileName;
    private final LbConfigBuilder builder;
    private final Map<String, Directive> globals = new HashMap<>();
    private final Map<String, Directive> serviceScoped = new HashMap<>();
    private final Map<String, Directive> routeScoped = new HashMap<>();
    private final List<String> directiveNames = new ArrayList<>();
    private final Map<String, Integer> seenGlobals = new HashMap<>();
    private final Map<String, Integer> seenInService = new HashMap<>();
    private LbConfigBuilder.ServiceDraft service;
    private LbConfigBuilder.RouteDraft route;
    private int line;

    private ConfigParser(final String fileName)
    {
        this.fileName = fileName;
        this.builder = new LbConfigBuilder(fileName);

        global("client-interface", one("NAME", Values::interfaceName, builder::clientInterface));
        global("server-interface", one("NAME", Values::interfaceName, builder::serverInterface));
        global("client-ip", one("IP", IpAddresses::parseIpv4, builder::clientIp));
        global("gateway-ip", one("IP", IpAddresses::parseIpv4, builder::gatewayIp));
        global("client-ip6", one("IPV6", IpAddresses::parseIpv6, builder::clientIp6));
        global("gateway-ip6", one("IPV6", IpAddresses::parseIpv6, builder::gatewayIp6));
        global("probe-interval", one("DURATION", Values::duration, builder::probeInterval));
        global("probe-timeout", one("DURATION", Values::duration, builder::probeTimeout));
        global("probe-retries", one("N", Values::probeRetries, builder::probeRetries));
        global("timeout", this::timeout);
        global("flow-capacity", one("N", Values::flowCapacity, builder::flowCapacity));
        global("flow-table-size6", one("N", Values::flowTableSize6, builder::flowTableSize6));
        global("idle-strategy", one("backoff|spin|yield", Values::idleStrategy, builder::idleStrategy));
        global("idle-spin", one("0|DURATION", Values::idleSpin, builder::idleSpin));
        global("rx-ring", this::rxRing);
        global("workers", one("N", Values::workers, builder::workers));
        global("worker-cpus", one("none|CPU[,CPU...]", Values::workerCpus, builder::workerCpus));
        global("control-socket", one("PATH", Values::controlSocket, builder::controlSocket));
        global("server-network", one("PREFIX", Ipv4Prefix::parse, builder::serverNetwork));
        global("server-network6", one("PREFIX", Ipv6Prefix::parse, builder::serverNetwork6));
        global("bgp-local", this::bgpEnd);
        global("bgp-neighbor", this::bgpEnd);
        global("bgp-next-hop", one("IP", IpAddresses::parseIpv4, builder::bgpNextHop));
        global("bgp-bfd", one("on|off", Values::onOff, builder::bgpBfd));
        global("bgp-hold-time", one("DURATION", Values::duration, builder::bgpHoldTime));
        global("bird", one("PATH", Path::of, builder::bird));
        global("bird-dir", one("PATH", Path::of, builder::birdDir));
        global("service", this::service);
        serviceScoped("scheduler", one("NAME", Values::scheduler, (name, at) -> service.scheduler(name, at)));
        serviceScoped("mode", one("nat|dsr|ipip", Values::mode, (mode, at) -> service.mode(mode, at)));
        serviceScoped("maglev-table-size",
            one("PRIME", Values::maglevTableSize, (size, at) -> service.maglevTableSize(size, at)));
        serviceScoped("backend", this::backend);
        serviceScoped("check", one("tcp|none", Values::checkKind, (on, at) -> service.check(on, at)));
        serviceScoped("check-port", one("PORT", Values::port, (port, at) -> service.checkPort(port, at)));
        serviceScoped("check-interval", one("DURATION", Values::duration, (d, at) -> service.checkInterval(d, at)));
        serviceScoped("check-timeout", one("DURATION", Values::duration, (d, at) -> service.checkTimeout(d, at)));
        serviceScoped("check-rise", one("N", Values::checkCount, (n, at) -> service.checkRise(n, at)));
        serviceScoped("check-fall", one("N", Values::checkCount, (n, at) -> service.checkFall(n, at)));
        global("route", this::route);
        routeScoped("next-hop", one("IP", IpAddresses::parse, (ip, at) -> route.nextHop(ip, at)));
        routeScoped("policy", one("NAME", Values::spreadPolicy, (policy, at) -> route.policy(policy, at)));
        routeScoped("rebalance", one("on|off", Values::onOff, (on, at) -> route.rebalance(on, at)));
        routeScoped("flowlet-gap", one("DURATION", Values::duration, (gap, at) -> route.flowletGap(gap, at)));
    }

    /**
     * Reads and parses a config file.
     *
     * @param file the file; errors name it as given.
     * @return a builder holding the file's settings, for command-line flags to override before
     *         {@link LbConfigBuilder#build()}.
     * @throws ConfigException if the file cannot be read or has an error.
     */
    public static LbConfigBuilder read(final Path file)
    {
        final String name = file.toString();
        final String text;
        try
        {
            text = Files.readString(file);
        }
        catch (final NoSuchFileException ex)
        {
            throw new ConfigException(name + ": cannot read: no such file", false);
        }
        catch (final AccessDeniedException ex)
        {
            throw new ConfigException(name + ": cannot read: permission denied", false);
        }
        catch (final MalformedInputException ex)
        {
            throw new ConfigException(name + ": cannot read: not UTF-8 text", false);
        }
        catch (final IOException ex)
        {
            throw new ConfigException(name + ": cannot read: " + ex.getMessage(), false);
        }
        return parse(name, text);
    }

    /**
     * Parses config text.
     *
     * @param fileName the name errors give the text, such as {@code lb.conf}.
     * @param text     the config.
     * @return a builder holding the settings.
     * @throws ConfigException at the first error.
     */
    public static LbConfigBuilder parse(final String fileName, final String text)
    {
        final ConfigParser parser = new ConfigParser(fileName);
        final String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++)
        {
            parser.line(i + 1, lines[i]);
        }
        return parser.builder;
    }

    private void line(final int number, final String text)
    {
        line = number;
        final int hash = text.indexOf('#');
        final String content = (hash >= 0 ? text.substring(0, hash) : text).strip();
        if (content.isEmpty())
        {
            return;
        }

        final String[] words = content.split("\\s+");
        final String name = words[0];
        final Directive global = globals.get(name);
        final Directive scoped = serviceScoped.get(name);
        final Directive routeDirective = routeScoped.get(name);
        final boolean section = name.equals("service") || name.equals("route");
        if (global != null)
        {
            if (service != null && !section)
            {
                throw error(name, "global setting inside service '" + service.name() + "' (" +
                    service.origin().referenceFrom(here()) + "); move it above the first 'service' line");
            }
            if (route != null && !section)
            {
                throw error(name, "global setting inside route '" + route.name() + "' (" +
                    route.origin().referenceFrom(here()) + "); move it above the first 'route' line");
            }
            if (!section && !name.equals("timeout"))
            {
                once(seenGlobals, name);
            }
            global.apply(words);
        }
        else if (routeDirective != null && route != null)
        {
            if (!name.equals("next-hop"))
            {
                once(seenInService, name);
            }
            routeDirective.apply(words);
        }
        else if (routeDirective != null)
        {
            throw error(name, "must follow a 'route' line");
        }
        else if (scoped != null)
        {
            if (service == null)
            {
                throw error(name, route != null ? "not a route setting (route '" + route.name() + "' takes next-hop, " +
                    "policy, rebalance, flowlet-gap)" : "must follow a 'service' line");
            }
            if (!name.equals("backend"))
            {
                once(seenInService, name);
            }
            scoped.apply(words);
        }
        else
        {
            throw new ConfigException(
                fileName + ":" + line + ": unknown directive '" + name + "'" + Values.didYouMean(name, directiveNames),
                false);
        }
    }

    private void timeout(final String[] words)
    {
        if (words.length < 2)
        {
            throw error("timeout", "missing kind, expected 'timeout KIND DURATION' with KIND one of " +
                String.join(", ", TIMEOUT_KINDS));
        }
        final String kind = words[1];
        if (!TIMEOUT_KINDS.contains(kind))
        {
            throw error("timeout", "unknown kind '" + kind + "'" + Values.didYouMean(kind, TIMEOUT_KINDS) +
                ", expected one of " + String.join(", ", TIMEOUT_KINDS));
        }
        final String field = "timeout " + kind;
        once(seenGlobals, field);
        expectValues(field, words.length - 2, 1, "timeout " + kind + " DURATION");
        final Duration duration = value(field, words[2], Values::duration);
        final Origin origin = here();
        switch (kind)
        {
            case "tcp-syn" -> builder.timeoutTcpSyn(duration, origin);
            case "tcp-established" -> builder.timeoutTcpEstablished(duration, origin);
            case "tcp-closing" -> builder.timeoutTcpClosing(duration, origin);
            default -> builder.timeoutUdp(duration, origin);
        }
    }

    private void rxRing(final String[] words)
    {
        if (words.length < 2)
        {
            throw error("rx-ring", "missing value, expected 'rx-ring v2|v3 [frame-size N] [frame-count N]'");
        }
        final Origin origin = here();
        builder.rxRingVersion(value("rx-ring", words[1], Values::ringVersion), origin);
        final List<String> options = List.of("frame-size", "frame-count");
        final Map<String, Boolean> given = new HashMap<>();
        for (int i = 2; i < words.length; i += 2)
        {
            final String option = words[i];
            if (!options.contains(option))
            {
                throw error("rx-ring", "unknown option '" + option + "'" + Values.didYouMean(option, options) +
                    ", expected frame-size or frame-count");
            }
            final String field = "rx-ring " + option;
            if (given.put(option, Boolean.TRUE) != null)
            {
                throw error(field, "given twice");
            }
            if (i + 1 >= words.length)
            {
                throw error(field, "missing value");
            }
            if (option.equals("frame-size"))
            {
                builder.rxFrameSize(value(field, words[i + 1], Values::frameSize), origin);
            }
            else
            {
                builder.rxFrameCount(value(field, words[i + 1], Values::frameCount), origin);
            }
        }
    }

    /** bgp-local IP AS, bgp-neighbor IP AS. */
    private void bgpEnd(final String[] words)
    {
        final String field = words[0];
        expectValues(field, words.length - 1, 2, field + " IP AS");
        final Values.IpAndAs end = new Values.IpAndAs(value(field, words[1], IpAddresses::parseIpv4), value(field + " AS", words[2], Values::asNumber));
        if (field.equals("bgp-local"))
        {
            builder.bgpLocal(end, here());
        }
        else
        {
            builder.bgpNeighbor(end, here());
        }
    }

    private void service(final String[] words)
    {
        expectValues("service", words.length - 1, 2, "service NAME VIP:PORT/PROTO");
        final String name = value("service name", words[1], Values::serviceName);
        final Values.ServiceAddress address = value("service " + name, words[2], Values::serviceAddress);
        service = builder.addService(name, address, here());
        route = null;
        seenInService.clear();
    }

    /** route NAME PREFIX: starts a route section. */
    private void route(final String[] words)
    {
        expectValues("route", words.length - 1, 2, "route NAME PREFIX");
        final String name = value("route name", words[1], Values::serviceName);
        final RoutePrefix prefix = value("route " + name, words[2], RoutePrefix::parse);
        route = builder.addRoute(name, prefix, here());
        service = null;
        seenInService.clear();
    }

    private void backend(final String[] words)
    {
        if (words.length < 2)
        {
            throw error("backend", "missing value, expected 'backend IP[:PORT] [weight W]'");
        }
        final Values.BackendAddress address = value("backend", words[1], Values::backendAddress);
        int weight = Values.weight(ConfigDefaults.WEIGHT);
        boolean weightGiven = false;
        for (int i = 2; i < words.length; i += 2)
        {
            final String option = words[i];
            if (!option.equals("weight"))
            {
                throw error("backend", "unknown option '" + option + "'" +
                    Values.didYouMean(option, List.of("weight")) + ", expected 'weight W'");
            }
            if (weightGiven)
            {
                throw error("backend weight", "given twice");
            }
            if (i + 1 >= words.length)
            {
                throw error("backend weight", "missing value");
            }
            weight = value("backend weight", words[i + 1], Values::weight);
            weightGiven = true;
        }
        service.addBackend(address, weight, here());
    }

    private void global(final String name, final Directive directive)
    {
        globals.put(name, directive);
        directiveNames.add(name);
    }

    private void serviceScoped(final String name, final Directive directive)
    {
        serviceScoped.put(name, directive);
        directiveNames.add(name);
    }

    private void routeScoped(final String name, final Directive directive)
    {
        routeScoped.put(name, directive);
        directiveNames.add(name);
    }

    /** A directive that takes exactly one value, converted and handed to the builder with its origin. */
    private <T> Directive one(final String valueLabel, final Function<String, T> parse, final BiConsumer<T, Origin> set)
    {
        return words ->
        {
            final String field = words[0];
            expectValues(field, words.length - 1, 1, field + " " + valueLabel);
            set.accept(value(field, words[1], parse), here());
        };
    }

    private void expectValues(final String field, final int count, final int expected, final String usage)
    {
        if (count < expected)
        {
            throw error(field, "missing value, expected '" + usage + "'");
        }
        if (count > expected)
        {
            throw error(field, "too many values, expected '" + usage + "'");
        }
    }

    private <T> T value(final String field, final String text, final Function<String, T> parse)
    {
        try
        {
            return parse.apply(text);
        }
        catch (final IllegalArgumentException ex)
        {
            throw error(field, ex.getMessage());
        }
    }

    private void once(final Map<String, Integer> seen, final String field)
    {
        final Integer first = seen.putIfAbsent(field, line);
        if (first != null)
        {
            throw error(field, "already set (line " + first + ")");
        }
    }

    private Origin here()
    {
        return Origin.line(fileName, line);
    }

    private ConfigException error(final String field, final String problem)
    {
        return new ConfigException(here(), field, problem);
    }

    @FunctionalInterface
    private interface Directive
    {
        void apply(String[] words);
    }
}
