package lb.control.testbed;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A network-namespace testbed for end-to-end tests, built and torn down by {@code docker/testbed.sh}.
 * <p>
 * Namespaces are named {@code <prefix>-<role>}: {@code sw} (bridges {@code brc}, {@code brs}),
 * {@code lb} (interfaces {@code cli0}, {@code srv0}, no kernel addresses), clients {@code c1},
 * {@code c2}, router {@code rt}, client {@code c3} behind the router, servers {@code s1..sN}.
 * <p>
 * The {@linkplain #mode() mode} prepares the servers for lb's forwarding mode: {@code nat} (their
 * default route is lb's gateway), {@code dsr} and {@code ipip} (they hold the VIPs locally and
 * answer the clients directly through {@code rt}, which then also sits on the server LAN as
 * {@value #ROUTER_SERVER_IP}; in ipip each server runs the user-space decapsulator
 * {@code docker/ipip_decap.py} once {@link #startServers()} ran). {@link #upEcmp(int)} builds the
 * ECMP topology instead: lb instances {@code lb1..lbN} behind {@code rt}, which runs BIRD and
 * peers with each instance over the management LAN (see {@code docker/testbed.sh --help}).
 * {@link #upDualStack} adds IPv6 from 2001:2::/48 beside the IPv4 addresses (client LAN
 * 2001:2::/64, server LAN 2001:2:0:1::/64, the router leg 2001:2:0:2::/64 to c3; no duplicate
 * address detection, no router solicitations), and the servers also listen on IPv6; without it
 * IPv6 is disabled in every namespace.
 * {@link #close()} stops every process started through this object, then deletes exactly the
 * namespaces the script recorded; a JVM shutdown hook does the same if a test never closes it.
 * <p>
 * Needs root and working {@code ip netns}: {@link #up} fails with a clear message otherwise, it
 * never skips.
 */
public final class Testbed implements AutoCloseable
{
    /** lb's client-side address, in lb's user space only. */
    public static final String LB_CLIENT_IP = "198.18.0.1";
    /** The servers' default gateway, answered by lb in user space. */
    public static final String GATEWAY_IP = "198.18.1.1";
    /** The first VIP; lb's VIPs are 198.18.0.100 to 198.18.0.199. */
    public static final String VIP = "198.18.0.100";
    /** The router's address on the client LAN. */
    public static final String ROUTER_CLIENT_IP = "198.18.0.2";
    /** The router's address on the server LAN (modes dsr and ipip, and the ECMP topology). */
    public static final String ROUTER_SERVER_IP = "198.18.1.2";
    /** The router's address on the management LAN of the ECMP topology (its BGP address). */
    public static final String ROUTER_MGMT_IP = "198.18.3.1";
    /** The router's AS number in the ECMP topology. */
    public static final int ROUTER_AS = 65000;
    /** The AS number rt expects from every lb instance (eBGP, one AS for all instances). */
    public static final int LB_AS = 65001;
    /** The server LAN, lb's {@code --server-network} for dsr. */
    public static final String SERVER_NETWORK = "198.18.1.0/24";
    /** What the servers hold locally in modes dsr and ipip: 198.18.0.96 to 198.18.0.127. */
    public static final String SERVER_LOCAL_VIPS = "198.18.0.96/27";
    /** The forwarding modes the testbed prepares servers for. */
    public static final List<String> MODES = List.of("nat", "dsr", "ipip");
    /** lb's interface on the client LAN. */
    public static final String CLIENT_IF = "cli0";
    /** lb's interface on the server LAN. */
    public static final String SERVER_IF = "srv0";
    /** The servers' HTTP port ({@code /whoami}, {@code /file/<name>}). */
    public static final int HTTP_PORT = 80;
    /** The servers' UDP echo port; a reply is {@code "<server ip> "} followed by the datagram. */
    public static final int UDP_ECHO_PORT = 5353;

    /** lb's client-side IPv6 address ({@code --client-ip6}), in lb's user space only (dual stack). */
    public static final String LB_CLIENT_IP6 = "2001:2::1";
    /** The servers' IPv6 default gateway ({@code --gateway-ip6}), answered by lb in user space. */
    public static final String GATEWAY_IP6 = "2001:2:0:1::1";
    /** The first IPv6 VIP; lb's VIP6s are 2001:2::100 to 2001:2::1ff, on the client LAN (on-link for c1, c2). */
    public static final String VIP6 = "2001:2::100";
    /** The router's IPv6 address on the client LAN. */
    public static final String ROUTER_CLIENT_IP6 = "2001:2::2";
    /** The router's IPv6 address on the server LAN (modes dsr and ipip). */
    public static final String ROUTER_SERVER_IP6 = "2001:2:0:1::2";
    /** The router's IPv6 address on its leg to c3. */
    public static final String ROUTER_LEG_IP6 = "2001:2:0:2::1";
    /** The IPv6 server LAN, lb's {@code server-network6} for dsr. */
    public static final String SERVER_NETWORK6 = "2001:2:0:1::/64";
    /** What the servers hold locally in modes dsr and ipip when dual-stack: every VIP6. */
    public static final String SERVER_LOCAL_VIPS6 = "2001:2::100/120";

    private static final int MAX_SERVERS = 50;
    private static final int MAX_INSTANCES = 4;
    private static final String BIRDC = "/usr/sbin/birdc";
    private static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    private static final String SCRIPT = "docker/testbed.sh";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path repoRoot;
    private final Path script;
    private final String prefix;
    private final boolean offloads;
    private final int servers;
    private final String mode;
    private final int instances;
    private final boolean ipv6;
    private final List<String> roles;
    private String birdSocket;
    private final List<Process> started = new ArrayList<>();
    private final Thread shutdownHook;
    private boolean closed;

    /** instances 0: the single topology with one namespace "lb"; 1..4: ECMP with "lb1".."lbN". */
    private Testbed(final Path repoRoot, final String prefix, final boolean offloads, final int servers,
        final String mode, final int instances, final boolean ipv6)
    {
        this.repoRoot = repoRoot;
        this.script = repoRoot.resolve(SCRIPT);
        this.prefix = prefix;
        this.offloads = offloads;
        this.servers = servers;
        this.mode = mode;
        this.instances = instances;
        this.ipv6 = ipv6;
        final List<String> roles = new ArrayList<>(List.of("sw"));
        if (instances == 0)
        {
            roles.add("lb");
        }
        for (int i = 1; i <= instances; i++)
        {
            roles.add("lb" + i);
        }
        roles.addAll(List.of("c1", "c2", "rt", "c3"));
        for (int i = 1; i <= servers; i++)
        {
            roles.add("s" + i);
        }
        this.roles = Collections.unmodifiableList(roles);
        this.shutdownHook = new Thread(this::closeFromShutdownHook, "testbed-" + prefix + "-down");
    }

    /**
     * Brings up a fresh testbed with a new random prefix.
     *
     * @param offloads false turns tso, gso, gro and checksum offloads off on every veth.
     * @param servers  number of server namespaces, 1 to 50.
     * @return the running testbed; close it to delete it.
     * @throws IllegalStateException when not root, {@code ip netns} does not work, or the script fails.
     */
    public static Testbed up(final boolean offloads, final int servers)
    {
        return up(offloads, servers, "nat");
    }

    /**
     * Brings up a fresh testbed with a new random prefix whose servers suit lb's forwarding mode.
     *
     * @param offloads false turns tso, gso, gro and checksum offloads off on every veth.
     * @param servers  number of server namespaces, 1 to 50.
     * @param mode     {@code nat} (as {@link #up(boolean, int)}), {@code dsr} or {@code ipip}.
     * @return the running testbed; close it to delete it.
     * @throws IllegalStateException when not root, {@code ip netns} does not work, or the script fails.
     */
    public static Testbed up(final boolean offloads, final int servers, final String mode)
    {
        if (!MODES.contains(mode))
        {
            throw new IllegalArgumentException("mode must be one of " + MODES + ": " + mode);
        }
        return create(offloads, servers, mode, 0, false);
    }

    /**
     * Brings up a fresh dual-stack testbed ({@code testbed.sh up --ipv6}): the IPv4 testbed of
     * {@link #up(boolean, int, String)} plus IPv6 on the clients, the router and the servers.
     *
     * @param offloads false turns tso, gso, gro and checksum offloads off on every veth.
     * @param servers  number of server namespaces, 1 to 50.
     * @param mode     {@code nat} (the servers' IPv6 default route is {@value #GATEWAY_IP6}), {@code dsr} or
     *                 {@code ipip} (they hold the VIP6s locally and route via {@value #ROUTER_SERVER_IP6}).
     */
    public static Testbed upDualStack(final boolean offloads, final int servers, final String mode)
    {
        if (!MODES.contains(mode))
        {
            throw new IllegalArgumentException("mode must be one of " + MODES + ": " + mode);
        }
        return create(offloads, servers, mode, 0, true);
    }

    /**
     * Brings up the ECMP topology (mode dsr, offloads on, three servers): lb namespaces
     * {@code lb1..lbN} behind the router {@code rt}, which runs BIRD with one passive BGP session
     * per instance (see {@link #lbMgmtIp(int)}, {@link #birdc(String)}).
     *
     * @param instances number of lb namespaces, 1 to 4.
     */
    public static Testbed upEcmp(final int instances)
    {
        if (instances < 1 || instances > MAX_INSTANCES)
        {
            throw new IllegalArgumentException("instances must be 1.." + MAX_INSTANCES + ": " + instances);
        }
        return create(true, 3, "dsr", instances, false);
    }

    private static Testbed create(final boolean offloads, final int servers, final String mode, final int instances,
        final boolean ipv6)
    {
        if (servers < 1 || servers > MAX_SERVERS)
        {
            throw new IllegalArgumentException("servers must be 1.." + MAX_SERVERS + ": " + servers);
        }
        final Path repoRoot = checkPreconditions();
        final String prefix = "lbt" + HexFormat.of().formatHex(randomBytes(3));
        final Testbed testbed = new Testbed(repoRoot, prefix, offloads, servers, mode, instances, ipv6);
        // A test JVM killed outright (SIGKILL, a machine restart) runs no shutdown hook: its testbeds, recorded
        // with their owner's pid, are taken down by the next run before it brings up its own.
        final ExecResult swept = testbed.runScript("sweep");
        if (!swept.ok())
        {
            throw new IllegalStateException("testbed.sh sweep failed: " + swept);
        }
        // Registered before the script runs: should the JVM die half-way, down still runs.
        Runtime.getRuntime().addShutdownHook(testbed.shutdownHook);
        final List<String> args = new ArrayList<>(List.of("up", "--prefix", prefix, "--offloads", offloads ? "on" : "off",
            "--servers", Integer.toString(servers), "--mode", mode, "--owner", Long.toString(ProcessHandle.current().pid())));
        if (instances > 0)
        {
            args.addAll(List.of("--topology", "ecmp", "--instances", Integer.toString(instances)));
        }
        if (ipv6)
        {
            args.add("--ipv6");
        }
        final ExecResult result = testbed.runScript(args.toArray(String[]::new));
        if (result.ok())
        {
            testbed.birdSocket = result.stdout().lines().filter(l -> l.startsWith("RT_BIRD_SOCKET="))
                .map(l -> l.substring("RT_BIRD_SOCKET=".length())).findFirst().orElse(null);
        }
        if (!result.ok() || !result.stdout().lines().anyMatch(("PREFIX=" + prefix)::equals) ||
            !result.stdout().lines().anyMatch(("IPV6=" + (ipv6 ? "on" : "off"))::equals) ||
            (instances > 0 && testbed.birdSocket == null))
        {
            final IllegalStateException failure = new IllegalStateException("testbed.sh up failed: " + result);
            try
            {
                testbed.close();
            }
            catch (final RuntimeException ex)
            {
                failure.addSuppressed(ex);
            }
            throw failure;
        }
        return testbed;
    }

    /**
     * Checks what the testbed needs: Linux, root, a working {@code ip netns} and the script.
     *
     * @return the repository root, where {@code docker/testbed.sh} lives.
     * @throws IllegalStateException naming what is missing.
     */
    public static Path checkPreconditions()
    {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux"))
        {
            throw new IllegalStateException("the testbed needs Linux network namespaces; this is " +
                System.getProperty("os.name"));
        }
        final long uid = effectiveUid();
        if (uid != 0)
        {
            throw new IllegalStateException("the testbed needs root (network namespaces need CAP_SYS_ADMIN); " +
                "effective uid is " + uid + ": run the tests as root, e.g. sudo bin/test");
        }
        final Path repoRoot = findRepoRoot();
        final ExecResult netns;
        try
        {
            netns = run(List.of("ip", "netns", "list"), Duration.ofSeconds(10));
        }
        catch (final UncheckedIOException ex)
        {
            throw new IllegalStateException("the 'ip' command cannot run (" + ex.getCause().getMessage() +
                "): install the Debian package iproute2", ex);
        }
        if (!netns.ok())
        {
            throw new IllegalStateException("'ip netns list' does not work here, so no network namespaces: " +
                netns);
        }
        return repoRoot;
    }

    /** @return the prefix of every namespace of this testbed. */
    public String prefix()
    {
        return prefix;
    }

    /** @return whether offloads are left on (the kernel default) on the veths. */
    public boolean offloads()
    {
        return offloads;
    }

    /** @return the number of server namespaces {@code s1..sN}. */
    public int servers()
    {
        return servers;
    }

    /** @return the forwarding mode the servers are set up for: {@code nat}, {@code dsr} or {@code ipip}. */
    public String mode()
    {
        return mode;
    }

    /** @return true for the dual-stack testbed of {@link #upDualStack}. */
    public boolean ipv6()
    {
        return ipv6;
    }

    /** @return true for the ECMP topology of {@link #upEcmp(int)}. */
    public boolean ecmp()
    {
        return instances > 0;
    }

    /** @return the number of lb namespaces: N for {@link #upEcmp(int)}, 1 otherwise. */
    public int instances()
    {
        return Math.max(1, instances);
    }

    /** @return the roles of the lb namespaces: {@code ["lb"]}, or {@code ["lb1", .., "lbN"]} in the ECMP topology. */
    public List<String> lbRoles()
    {
        return roles.stream().filter(r -> r.matches("lb\\d*")).collect(Collectors.toUnmodifiableList());
    }

    /** @return the client-ip lb instance i (from 1) answers on the client LAN in the ECMP topology: 198.18.0.(10+i). */
    public static String lbClientIp(final int instance)
    {
        return "198.18.0." + (10 + checkInstance(instance));
    }

    /** @return the gateway-ip of lb instance i on the server LAN in the ECMP topology: 198.18.1.(20+i). */
    public static String lbGatewayIp(final int instance)
    {
        return "198.18.1." + (20 + checkInstance(instance));
    }

    /** @return the kernel address of lb instance i's {@code mgmt0} (its BGP address): 198.18.3.(10+i). */
    public static String lbMgmtIp(final int instance)
    {
        return "198.18.3." + (10 + checkInstance(instance));
    }

    /**
     * @return the address of client {@code c1}, {@code c2} or {@code c3} in this testbed: as
     *     {@link #clientIp(String)}, except in the ECMP topology, where all clients sit behind the
     *     router on 198.18.2.0/24 (c1 .21, c2 .22, c3 .11).
     */
    public String clientAddress(final String role)
    {
        if (!ecmp())
        {
            return clientIp(role);
        }
        switch (role)
        {
            case "c1": return "198.18.2.21";
            case "c2": return "198.18.2.22";
            case "c3": return "198.18.2.11";
            default: throw new IllegalArgumentException("not a client role: " + role);
        }
    }

    /** @return the path of the control socket of rt's BIRD (ECMP topology only). */
    public Path birdSocket()
    {
        if (birdSocket == null)
        {
            throw new IllegalStateException("no BIRD in this testbed: only upEcmp() starts one");
        }
        return Path.of(birdSocket);
    }

    /**
     * Runs one {@code birdc} command against rt's BIRD, e.g. {@code "show protocols"} (ECMP only).
     * birdc's output starts with a banner line ("BIRD 2.0.12 ready.").
     */
    public ExecResult birdc(final String command)
    {
        checkOpen();
        final List<String> cmd = new ArrayList<>(List.of(BIRDC, "-s", birdSocket().toString()));
        cmd.addAll(Arrays.asList(command.trim().split("\\s+")));
        return run(cmd, Duration.ofSeconds(10));
    }

    /** @return the output of {@code ip route show <prefix>} in rt, e.g. {@code routerRoutes("198.18.0.100/32")}. */
    public String routerRoutes(final String routePrefix)
    {
        final ExecResult routes = exec("rt", Duration.ofSeconds(10), "ip", "route", "show", routePrefix);
        if (!routes.ok())
        {
            throw new IllegalStateException("ip route show " + routePrefix + " in rt failed: " + routes);
        }
        return routes.stdout();
    }

    /** @return the repository root (where {@code docker/} and {@code bin/} are). */
    public Path repoRoot()
    {
        return repoRoot;
    }

    /** @return every role of this testbed, in the order the script creates them. */
    public List<String> roles()
    {
        return roles;
    }

    /** @return the namespace names of all roles. */
    public List<String> namespaces()
    {
        return roles.stream().map(this::ns).collect(Collectors.toUnmodifiableList());
    }

    /**
     * @param role one of {@link #roles()}, e.g. {@code "lb"}, {@code "c1"}, {@code "s2"}.
     * @return the namespace name of that role.
     */
    public String ns(final String role)
    {
        if (!roles.contains(role))
        {
            throw new IllegalArgumentException("no role '" + role + "' in this testbed; roles: " + roles);
        }
        return prefix + "-" + role;
    }

    /** @return the address of client {@code c1}, {@code c2} or {@code c3}. */
    public static String clientIp(final String role)
    {
        switch (role)
        {
            case "c1": return "198.18.0.11";
            case "c2": return "198.18.0.12";
            case "c3": return "198.18.2.11";
            default: throw new IllegalArgumentException("not a client role: " + role);
        }
    }

    /** @return the IPv6 address of client {@code c1}, {@code c2} (client LAN) or {@code c3} (behind the router). */
    public static String clientIp6(final String role)
    {
        switch (role)
        {
            case "c1": return "2001:2::11";
            case "c2": return "2001:2::12";
            case "c3": return "2001:2:0:2::11";
            default: throw new IllegalArgumentException("not a client role: " + role);
        }
    }

    /**
     * @return the IPv6 address of server {@code s<n>}, n from 1: 2001:2:0:1:: and, as the last
     *     group, the last octet of its IPv4 address written the same (s1 ::11, s12 ::22).
     */
    public static String serverIp6(final int n)
    {
        final String ip = serverIp(n);
        return "2001:2:0:1::" + ip.substring(ip.lastIndexOf('.') + 1);
    }

    /** @return the IPv6 addresses of this testbed's servers, s1 first. */
    public List<String> serverIps6()
    {
        final List<String> ips = new ArrayList<>();
        for (int i = 1; i <= servers; i++)
        {
            ips.add(serverIp6(i));
        }
        return ips;
    }

    /** @return {@code http://ADDRESS:PORT/PATH} (one slash before the path), the address bracketed when it is IPv6. */
    public static String httpUrl(final String address, final int port, final String path)
    {
        return "http://" + hostPort(address, port) + "/" + (path.startsWith("/") ? path.substring(1) : path);
    }

    /** @return {@code address:port}, or {@code [address]:port} for an IPv6 address (lb's and curl's form). */
    public static String hostPort(final String address, final int port)
    {
        return (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port;
    }

    /** @return the address of server {@code s<n>}, n from 1. */
    public static String serverIp(final int n)
    {
        if (n < 1 || n > MAX_SERVERS)
        {
            throw new IllegalArgumentException("server number must be 1.." + MAX_SERVERS + ": " + n);
        }
        return "198.18.1." + (10 + n);
    }

    /** @return the addresses of this testbed's servers, s1 first. */
    public List<String> serverIps()
    {
        final List<String> ips = new ArrayList<>();
        for (int i = 1; i <= servers; i++)
        {
            ips.add(serverIp(i));
        }
        return ips;
    }

    /**
     * Runs a command in a role's namespace and waits for it, at most {@code timeout}; on timeout
     * the command and its descendants are killed by PID.
     */
    public ExecResult exec(final String role, final Duration timeout, final String... cmd)
    {
        return exec(role, timeout, Arrays.asList(cmd));
    }

    /** As {@link #exec(String, Duration, String...)}, with the command as a list. */
    public ExecResult exec(final String role, final Duration timeout, final List<String> cmd)
    {
        checkOpen();
        return run(inNamespace(role, cmd), timeout);
    }

    /**
     * Starts a background process in a role's namespace, stdout and stderr to {@code log}. It is
     * stopped on {@link #close()} unless stopped earlier with {@link #stop(Process)}.
     */
    public Process start(final String role, final List<String> cmd, final Path log)
    {
        checkOpen();
        final ProcessBuilder builder = new ProcessBuilder(inNamespace(role, cmd))
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
        synchronized (started)
        {
            try
            {
                final Process process = builder.start();
                started.add(process);
                return process;
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException("cannot start " + cmd + " in " + ns(role), ex);
            }
        }
    }

    /**
     * Stops a process from {@link #start}: SIGTERM, up to 5 s to exit, then SIGKILL to it and to
     * the descendants it had.
     *
     * @return its exit code (143 or 137 when a signal ended it).
     */
    public int stop(final Process process)
    {
        synchronized (started)
        {
            started.remove(process);
        }
        return terminate(process, STOP_GRACE);
    }

    /** Starts the HTTP and UDP echo servers in every server namespace; files from the default directory. */
    public void startServers()
    {
        scriptOrThrow("servers", "--prefix", prefix);
    }

    /** Starts the servers; {@code GET /file/<name>} serves {@code filesDir/<name>}. */
    public void startServers(final Path filesDir)
    {
        scriptOrThrow("servers", "--prefix", prefix, "--files", filesDir.toAbsolutePath().toString());
    }

    /** Stops the servers started by {@link #startServers()}. */
    public void stopServers()
    {
        scriptOrThrow("stop-servers", "--prefix", prefix);
    }

    /**
     * @return lb's arguments for this testbed: VIP 198.18.0.100:80/tcp, every server a backend,
     *     scheduler rr (no {@code --mode}: add it, and {@code --server-network}, for dsr and ipip).
     */
    public List<String> lbArgs()
    {
        if (ecmp())
        {
            throw new IllegalStateException("the ECMP topology has several lb instances: use lbArgs(instance)");
        }
        return List.of("--client-if", CLIENT_IF, "--server-if", SERVER_IF, "--client-ip", LB_CLIENT_IP,
            "--gateway-ip", GATEWAY_IP, "--vip", VIP + ":" + HTTP_PORT + "/tcp",
            "--backends", String.join(",", serverIps()), "--scheduler", "rr");
    }

    /**
     * @return lb's arguments for the dual-stack testbed, IPv6 service only: both families' own
     *     addresses ({@code --client-ip6 2001:2::1 --gateway-ip6 2001:2:0:1::1} beside the IPv4
     *     ones), VIP [2001:2::100]:80/tcp, every server's IPv6 address a backend, scheduler rr.
     */
    public List<String> lbArgs6()
    {
        if (!ipv6)
        {
            throw new IllegalStateException("testbed " + prefix + " has no IPv6: bring it up with upDualStack()");
        }
        return List.of("--client-if", CLIENT_IF, "--server-if", SERVER_IF, "--client-ip", LB_CLIENT_IP,
            "--gateway-ip", GATEWAY_IP, "--client-ip6", LB_CLIENT_IP6, "--gateway-ip6", GATEWAY_IP6,
            "--vip", hostPort(VIP6, HTTP_PORT) + "/tcp", "--backends", String.join(",", serverIps6()), "--scheduler", "rr");
    }

    /**
     * @return the arguments for lb instance i (from 1) of the ECMP topology, in namespace
     *     {@code "lb" + i}: its client-ip and gateway-ip, VIP 198.18.0.100:80/tcp, every server a
     *     backend, {@code --mode dsr --scheduler maglev --server-network 198.18.1.0/24}.
     */
    public List<String> lbArgs(final int instance)
    {
        if (!ecmp() || instance < 1 || instance > instances)
        {
            throw new IllegalArgumentException("no lb instance " + instance + " in this testbed (" + lbRoles() + ")");
        }
        return List.of("--client-if", CLIENT_IF, "--server-if", SERVER_IF, "--client-ip", lbClientIp(instance),
            "--gateway-ip", lbGatewayIp(instance), "--vip", VIP + ":" + HTTP_PORT + "/tcp",
            "--backends", String.join(",", serverIps()), "--mode", "dsr", "--scheduler", "maglev",
            "--server-network", SERVER_NETWORK);
    }

    /** @return the command that runs lb with these arguments: {@code bin/lb} if present, else java -jar lb.jar. */
    public List<String> lbCommand(final List<String> lbArgs)
    {
        final List<String> cmd = new ArrayList<>();
        final Path binLb = repoRoot.resolve("bin/lb");
        if (Files.isExecutable(binLb))
        {
            cmd.add(binLb.toString());
        }
        else
        {
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(List.of("--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "--add-opens", "java.base/java.nio=ALL-UNNAMED", "-Djnr.ffi.x86asm.enabled=false",
                "-jar", repoRoot.resolve("lb-control/target/lb.jar").toString()));
        }
        cmd.addAll(lbArgs);
        return cmd;
    }

    /**
     * Stops every process started here, then deletes the testbed ({@code testbed.sh down}).
     * Idempotent.
     *
     * @throws IllegalStateException when down fails; the namespaces may then be left behind.
     */
    @Override
    public void close()
    {
        final ExecResult down = closeQuietly();
        try
        {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        }
        catch (final IllegalStateException shutdownInProgress)
        {
            // the hook runs or has run: nothing to remove
        }
        if (down != null && !down.ok())
        {
            throw new IllegalStateException("testbed.sh down failed: " + down);
        }
    }

    /** The outcome of {@link #exec}: exit code, captured output, and whether it was killed on timeout. */
    public record ExecResult(int exitCode, String stdout, String stderr, boolean timedOut)
    {
        /** @return true when the command exited with 0 before its timeout. */
        public boolean ok()
        {
            return exitCode == 0 && !timedOut;
        }

        @Override
        public String toString()
        {
            return "exit " + exitCode + (timedOut ? " (killed on timeout)" : "") +
                "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
        }
    }

    private synchronized ExecResult closeQuietly()
    {
        if (closed)
        {
            return null;
        }
        closed = true;
        final List<Process> toStop;
        synchronized (started)
        {
            toStop = new ArrayList<>(started);
            started.clear();
        }
        Collections.reverse(toStop);
        for (final Process process : toStop)
        {
            terminate(process, STOP_GRACE);
        }
        return runScript("down", "--prefix", prefix);
    }

    private void closeFromShutdownHook()
    {
        final ExecResult down = closeQuietly();
        if (down != null && !down.ok())
        {
            System.err.println("testbed " + prefix + ": down failed in the shutdown hook: " + down);
        }
    }

    private void checkOpen()
    {
        synchronized (this)
        {
            if (closed)
            {
                throw new IllegalStateException("testbed " + prefix + " is closed");
            }
        }
    }

    private List<String> inNamespace(final String role, final List<String> cmd)
    {
        if (cmd.isEmpty())
        {
            throw new IllegalArgumentException("empty command");
        }
        final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns(role)));
        full.addAll(cmd);
        return full;
    }

    private void scriptOrThrow(final String... args)
    {
        checkOpen();
        final ExecResult result = runScript(args);
        if (!result.ok())
        {
            throw new IllegalStateException("testbed.sh " + String.join(" ", args) + " failed: " + result);
        }
    }

    private ExecResult runScript(final String... args)
    {
        final List<String> cmd = new ArrayList<>(List.of("bash", script.toString()));
        cmd.addAll(Arrays.asList(args));
        return run(cmd, SCRIPT_TIMEOUT);
    }

    /**
     * Runs a command to completion or timeout. Output goes to temporary files, not pipes, so a
     * background grandchild that keeps the descriptors open cannot make this hang.
     */
    private static ExecResult run(final List<String> cmd, final Duration timeout)
    {
        Path out = null;
        Path err = null;
        try
        {
            out = Files.createTempFile("testbed-out", ".txt");
            err = Files.createTempFile("testbed-err", ".txt");
            final Process process = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
            boolean timedOut = false;
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
            {
                timedOut = true;
                killTree(process);
            }
            final int exitCode = process.waitFor();
            return new ExecResult(exitCode, Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8), timedOut);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot run " + cmd, ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + cmd, ex);
        }
        finally
        {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static int terminate(final Process process, final Duration grace)
    {
        final List<ProcessHandle> descendants = process.descendants().collect(Collectors.toList());
        process.destroy(); // SIGTERM
        try
        {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS))
            {
                process.destroyForcibly();
            }
            // ProcessHandle.destroyForcibly checks the start time: a reused PID is left alone.
            descendants.forEach(ProcessHandle::destroyForcibly);
            return process.waitFor();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            descendants.forEach(ProcessHandle::destroyForcibly);
            throw new IllegalStateException("interrupted while stopping pid " + process.pid(), ex);
        }
    }

    private static void killTree(final Process process)
    {
        final List<ProcessHandle> descendants = process.descendants().collect(Collectors.toList());
        process.destroyForcibly();
        descendants.forEach(ProcessHandle::destroyForcibly);
    }

    private static long effectiveUid()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status")))
            {
                if (line.startsWith("Uid:"))
                {
                    return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot read /proc/self/status to find the uid", ex);
        }
        throw new IllegalStateException("no Uid line in /proc/self/status");
    }

    /** Maven runs tests in the module directory, so the script is usually one level up. */
    private static Path findRepoRoot()
    {
        final String configured = System.getProperty("lb.repo.root");
        if (configured != null)
        {
            final Path root = Path.of(configured).toAbsolutePath();
            if (!Files.isRegularFile(root.resolve(SCRIPT)))
            {
                throw new IllegalStateException("-Dlb.repo.root=" + configured + " has no " + SCRIPT);
            }
            return root;
        }
        final Path cwd = Path.of("").toAbsolutePath();
        Path dir = cwd;
        for (int i = 0; i < 3 && dir != null; i++, dir = dir.getParent())
        {
            if (Files.isRegularFile(dir.resolve(SCRIPT)))
            {
                return dir;
            }
        }
        throw new IllegalStateException("cannot find " + SCRIPT + " in " + cwd + " or its two parents " +
            "(or set -Dlb.repo.root)");
    }

    private static int checkInstance(final int instance)
    {
        if (instance < 1 || instance > MAX_INSTANCES)
        {
            throw new IllegalArgumentException("lb instance must be 1.." + MAX_INSTANCES + ": " + instance);
        }
        return instance;
    }

    private static byte[] randomBytes(final int n)
    {
        final byte[] bytes = new byte[n];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    private static void deleteQuietly(final Path path)
    {
        if (path != null)
        {
            try
            {
                Files.deleteIfExists(path);
            }
            catch (final IOException ignored)
            {
                // a temporary file; nothing depends on its removal
            }
        }
    }
}
