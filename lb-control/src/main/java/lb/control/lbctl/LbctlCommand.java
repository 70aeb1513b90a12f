package lb.control.lbctl;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

import lb.control.config.ConfigDefaults;
import lb.control.config.Values;
import lb.control.socket.CommandDispatcher;
import lb.control.socket.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code lbctl} command line: sends one runtime command to lb's control socket and prints the
 * answer (tables for people, the server's JSON with {@code --json}), or watches per-backend rates.
 * Arguments are checked by lb itself, so lbctl and the socket always agree on what is valid.
 */
@Command(
    name = "lbctl",
    mixinStandardHelpOptions = true,
    // Every subcommand gets --help and --version too.
    scope = ScopeType.INHERIT,
    versionProvider = LbctlCommand.Version.class,
    usageHelpWidth = 100,
    subcommandsRepeatable = false,
    description = {
        "Runtime control of a running lb through its control socket: show state and counters, change " +
            "weights and backend states, add and remove backends, services, routes and next hops.",
        ""},
    footer = {
        "",
        "Examples:",
        "  lbctl show stat",
        "  lbctl --json show flows 20",
        "  lbctl set weight web 198.18.1.11 5",
        "  lbctl set state web 198.18.1.12:8080 drain",
        "  lbctl add service dns 198.18.0.53:53/udp sh",
        "  lbctl add service chk 198.18.0.54:80/tcp rr nat check=tcp check-fall=3",
        "  lbctl add route far 198.19.0.0/16 198.18.1.12,198.18.1.13 least-flows rebalance",
        "  lbctl del next-hop far 198.18.1.13",
        "  lbctl watch --interval 2s",
        "",
        "The socket speaks plain text, one command per line; an empty line ends each answer:",
        "  echo 'show info' | socat - UNIX-CONNECT:" + ConfigDefaults.CONTROL_SOCKET,
        "",
        "Exit status:",
        "  0  done",
        "  1  lb answered with an error (the message is on stderr)",
        "  2  usage error: unknown command, missing or extra argument, bad option",
        "  3  cannot connect to the socket, or the connection failed"},
    subcommands = {
        LbctlCommand.Show.class,
        LbctlCommand.Set.class,
        LbctlCommand.Add.class,
        LbctlCommand.Del.class,
        LbctlCommand.Watch.class})
public final class LbctlCommand implements Callable<Integer>
{
    /** Exit status: done. */
    public static final int EXIT_OK = 0;
    /** Exit status: lb answered {@code error:}. */
    public static final int EXIT_ERROR_ANSWER = 1;
    /** Exit status: the command line is wrong. */
    public static final int EXIT_USAGE = 2;
    /** Exit status: the socket cannot be reached or the connection failed. */
    public static final int EXIT_CONNECT = 3;

    @Spec
    private CommandSpec spec;

    @Option(names = {"-s", "--socket"}, paramLabel = "PATH", defaultValue = ConfigDefaults.CONTROL_SOCKET,
        scope = ScopeType.INHERIT, description = "lb's control socket. Default: ${DEFAULT-VALUE}.")
    private Path socket;

    @Option(names = "--json", scope = ScopeType.INHERIT, description =
        "Output for scripts: show prints the server's JSON, watch one JSON object per refresh. Other commands " +
        "answer one line of text either way.")
    private boolean json;

    private final boolean terminal;

    /**
     * @param terminal whether standard output is a terminal, so {@code watch} redraws the screen.
     */
    public LbctlCommand(final boolean terminal)
    {
        this.terminal = terminal;
    }

    /**
     * Runs lbctl.
     *
     * @param terminal whether standard output is a terminal.
     * @param out      standard output.
     * @param err      standard error.
     * @param args     the command-line arguments.
     * @return the exit status.
     */
    public static int run(final boolean terminal, final PrintWriter out, final PrintWriter err, final String... args)
    {
        final CommandLine commandLine = new CommandLine(new LbctlCommand(terminal));
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setParameterExceptionHandler(LbctlCommand::reportUsageError);
        commandLine.setExecutionExceptionHandler((ex, line, parseResult) ->
        {
            line.getErr().println("lbctl: internal error: " + ex);
            line.getErr().flush();
            return EXIT_ERROR_ANSWER;
        });
        return commandLine.execute(args);
    }

    /** With no command there is nothing to do: say so, as a usage error. */
    @Override
    public Integer call()
    {
        final PrintWriter err = spec.commandLine().getErr();
        err.println("lbctl: missing command (show, set, add, del, watch)");
        err.println("try 'lbctl --help'");
        err.flush();
        return EXIT_USAGE;
    }

    /**
     * Sends one command and prints its answer.
     *
     * @param words    the command and its arguments.
     * @param showJson whether it is a show command, which answers in JSON when asked.
     */
    private int send(final List<String> words, final boolean showJson)
    {
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        final List<String> line = new ArrayList<>(words);
        if (showJson && json)
        {
            line.add(CommandDispatcher.JSON_WORD);
        }
        try (ControlConnection connection = connect(err))
        {
            if (connection == null)
            {
                return EXIT_CONNECT;
            }
            final String answer = connection.request(line);
            return print(answer, out, err);
        }
        catch (final IOException ex)
        {
            err.println("lbctl: " + socket + ": " + ex.getMessage());
            err.flush();
            return EXIT_CONNECT;
        }
    }

    private static int print(final String answer, final PrintWriter out, final PrintWriter err)
    {
        if (answer.startsWith(CommandDispatcher.ERROR_PREFIX))
        {
            err.print(answer);
            err.flush();
            return EXIT_ERROR_ANSWER;
        }
        out.print(answer);
        out.flush();
        return EXIT_OK;
    }

    /** @return a connection, or null after reporting why there is none. */
    private ControlConnection connect(final PrintWriter err)
    {
        try
        {
            return ControlConnection.open(socket);
        }
        catch (final ControlConnection.ConnectFailure ex)
        {
            final String reason = ex.getMessage();
            final String hint = reason != null && reason.contains("ermission") ?
                " (lbctl needs root, lb's user, or the socket's group)" : " (is lb running?)";
            err.println("lbctl: cannot connect to " + socket + ": " + reason + hint);
            err.flush();
            return null;
        }
    }

    /** {@code lbctl show ...}. */
    @Command(name = "show", description = "Show state and counters.")
    static final class Show
    {
        @CommandLine.ParentCommand
        private LbctlCommand lbctl;

        @Command(name = "info", description = "Version, uptime, workers, traffic totals, flow table use.")
        int info()
        {
            return lbctl.send(List.of("show", "info"), true);
        }

        @Command(name = "stat", description = "Per service and backend: state, weight, flows, packets, bytes, probe RTT.")
        int stat()
        {
            return lbctl.send(List.of("show", "stat"), true);
        }

        @Command(name = "drops", description = "Dropped frames by reason.")
        int drops()
        {
            return lbctl.send(List.of("show", "drops"), true);
        }

        @Command(name = "routes", description = "Per route service and next hop: health, active flows, packets, bytes, moves.")
        int routes()
        {
            return lbctl.send(List.of("show", "routes"), true);
        }

        @Command(name = "flows", description = "A sample of flows.")
        int flows(@Parameters(paramLabel = "N", arity = "0..1", description = "How many (lb's default if not given).")
            final String count)
        {
            return lbctl.send(count == null ? List.of("show", "flows") : List.of("show", "flows", count), true);
        }

        @Command(name = "latency", description = "Packet processing time and probe RTT percentiles.")
        int latency()
        {
            return lbctl.send(List.of("show", "latency"), true);
        }

        @Command(name = "metrics", description = "All metrics in the Prometheus text format.")
        int metrics()
        {
            return lbctl.send(List.of("show", "metrics"), true);
        }
    }

    /** {@code lbctl set ...}. */
    @Command(name = "set", description = "Change a backend, or drain this instance from the router.")
    static final class Set
    {
        @CommandLine.ParentCommand
        private LbctlCommand lbctl;

        @Command(name = "weight", description = "Set a backend's weight, 0..10000 (0: no new flows).")
        int weight(
            @Parameters(paramLabel = "SERVICE") final String service,
            @Parameters(paramLabel = "BACKEND", description = "IP[:PORT]") final String backend,
            @Parameters(paramLabel = "WEIGHT") final String weight)
        {
            return lbctl.send(List.of("set", "weight", service, backend, weight), false);
        }

        @Command(name = "state", description = "ready: takes flows; drain: keeps its flows, takes no new ones; " +
            "maint: out of service.")
        int state(
            @Parameters(paramLabel = "SERVICE") final String service,
            @Parameters(paramLabel = "BACKEND", description = "IP[:PORT]") final String backend,
            @Parameters(paramLabel = "ready|drain|maint") final String state)
        {
            return lbctl.send(List.of("set", "state", service, backend, state), false);
        }

        @Command(name = "announce", description = "off: withdraw every VIP from the router (drain this instance " +
            "before maintenance; flows still arriving are forwarded); on: announce again.")
        int announce(@Parameters(paramLabel = "on|off") final String onOff)
        {
            return lbctl.send(List.of("set", "announce", onOff), false);
        }
    }

    /** {@code lbctl add ...}. */
    @Command(name = "add", description = "Add a backend, a service, a route or a next hop.")
    static final class Add
    {
        @CommandLine.ParentCommand
        private LbctlCommand lbctl;

        @Command(name = "backend", description = "Add a backend (port: the service's; weight: 1).")
        int backend(
            @Parameters(paramLabel = "SERVICE") final String service,
            @Parameters(paramLabel = "IP[:PORT]") final String backend,
            @Parameters(paramLabel = "WEIGHT", arity = "0..1") final String weight)
        {
            return lbctl.send(weight == null ? List.of("add", "backend", service, backend) :
                List.of("add", "backend", service, backend, weight), false);
        }

        @Command(name = "service", description = "Add a service without backends (scheduler: random, rr, wrr, " +
            "lc, wlc, sh or maglev; default " + ConfigDefaults.SCHEDULER + "; mode: nat, dsr or ipip, default " +
            ConfigDefaults.MODE + "). check=tcp gives it a TCP check of every backend, tuned by check-port=PORT, " +
            "check-interval=D, check-timeout=D, check-rise=N, check-fall=N.")
        int service(
            @Parameters(paramLabel = "NAME") final String name,
            @Parameters(paramLabel = "VIP:PORT/PROTO") final String address,
            @Parameters(paramLabel = "[SCHEDULER] [MODE] [check=tcp] [check-OPTION=VALUE]", arity = "0..8")
            final List<String> rest)
        {
            final List<String> words = new ArrayList<>(List.of("add", "service", name, address));
            if (rest != null)
            {
                words.addAll(rest);
            }
            return lbctl.send(words, false);
        }

        @Command(name = "route", description = "Add a route service: spread PREFIX over the next hops (policy: packet, " +
            "flow-random, flow-hash, least-flows or flowlet; default " + ConfigDefaults.ROUTE_POLICY + "; then " +
            "'rebalance' for least-flows, or the idle gap for flowlet, default " + ConfigDefaults.FLOWLET_GAP + ").")
        int route(
            @Parameters(paramLabel = "NAME") final String name,
            @Parameters(paramLabel = "PREFIX") final String prefix,
            @Parameters(paramLabel = "NEXT-HOP[,NEXT-HOP...]") final String nextHops,
            @Parameters(paramLabel = "POLICY", arity = "0..1") final String policy,
            @Parameters(paramLabel = "rebalance|GAP", arity = "0..1") final String option)
        {
            final List<String> words = new ArrayList<>(List.of("add", "route", name, prefix, nextHops));
            if (policy != null)
            {
                words.add(policy);
            }
            if (option != null)
            {
                words.add(option);
            }
            return lbctl.send(words, false);
        }

        @Command(name = "next-hop", description = "Add a next hop to a route service.")
        int nextHop(@Parameters(paramLabel = "ROUTE") final String route, @Parameters(paramLabel = "IP") final String ip)
        {
            return lbctl.send(List.of("add", "next-hop", route, ip), false);
        }
    }

    /** {@code lbctl del ...}. */
    @Command(name = "del", description = "Remove a backend, a service, a route or a next hop.")
    static final class Del
    {
        @CommandLine.ParentCommand
        private LbctlCommand lbctl;

        @Command(name = "backend", description = "Remove a backend; its flows end.")
        int backend(
            @Parameters(paramLabel = "SERVICE") final String service,
            @Parameters(paramLabel = "IP[:PORT]") final String backend)
        {
            return lbctl.send(List.of("del", "backend", service, backend), false);
        }

        @Command(name = "service", description = "Remove a service, its backends and flows.")
        int service(@Parameters(paramLabel = "NAME") final String name)
        {
            return lbctl.send(List.of("del", "service", name), false);
        }

        @Command(name = "route", description = "Remove a route service; its flows end.")
        int route(@Parameters(paramLabel = "NAME") final String name)
        {
            return lbctl.send(List.of("del", "route", name), false);
        }

        @Command(name = "next-hop", description = "Remove a next hop from a route service; its flows move to the others.")
        int nextHop(@Parameters(paramLabel = "ROUTE") final String route, @Parameters(paramLabel = "IP") final String ip)
        {
            return lbctl.send(List.of("del", "next-hop", route, ip), false);
        }
    }

    /** {@code lbctl watch}: per-backend rates, refreshed. */
    @Command(name = "watch", description = {
        "Per-backend rates (new flows/s, packets/s, bytes/s) from two consecutive 'show stat' samples, " +
            "refreshed every interval. On a terminal the screen is redrawn; otherwise blocks are printed one " +
            "after another. With --json, one JSON object per line."})
    static final class Watch implements Callable<Integer>
    {
        @CommandLine.ParentCommand
        private LbctlCommand lbctl;

        @Spec
        private CommandSpec spec;

        @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "1s",
            description = "Time between samples: 500ms, 2s, 1m. Default: ${DEFAULT-VALUE}.")
        private String interval;

        @Option(names = "--count", paramLabel = "N", defaultValue = "0",
            description = "Stop after N refreshes (0: until interrupted). Default: ${DEFAULT-VALUE}.")
        private String count;

        @Override
        public Integer call()
        {
            return lbctl.watch(option("--interval", interval, Values::duration),
                option("--count", count, text -> Values.integer(text, 0, Integer.MAX_VALUE)));
        }

        private <T> T option(final String name, final String text, final Function<String, T> parse)
        {
            try
            {
                return parse.apply(text);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new ParameterException(spec.commandLine(), name + ": " + ex.getMessage());
            }
        }
    }

    private int watch(final Duration period, final int refreshes)
    {
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        try (ControlConnection connection = connect(err))
        {
            if (connection == null)
            {
                return EXIT_CONNECT;
            }
            final WatchView view = new WatchView(socket, period);
            Map<String, Object> previous = sample(connection, err);
            if (previous == null)
            {
                return EXIT_ERROR_ANSWER;
            }
            for (int shown = 0; refreshes == 0 || shown < refreshes; shown++)
            {
                Thread.sleep(period.toMillis());
                final Map<String, Object> current = sample(connection, err);
                if (current == null)
                {
                    return EXIT_ERROR_ANSWER;
                }
                final WatchView.Rates rates = view.rates(previous, current);
                if (json)
                {
                    out.println(Json.write(rates.json()));
                }
                else if (terminal)
                {
                    out.print("\033[H\033[2J" + view.text(rates));
                }
                else
                {
                    out.print((shown > 0 ? "\n" : "") + view.text(rates));
                }
                out.flush();
                previous = current;
            }
            return EXIT_OK;
        }
        catch (final IOException ex)
        {
            err.println("lbctl: " + socket + ": " + ex.getMessage());
            err.flush();
            return EXIT_CONNECT;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return EXIT_OK;
        }
    }

    /** @return the parsed {@code show stat json}, or null after reporting an error answer. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> sample(final ControlConnection connection, final PrintWriter err)
        throws IOException
    {
        final String answer = connection.request(List.of("show", "stat", CommandDispatcher.JSON_WORD));
        if (answer.startsWith(CommandDispatcher.ERROR_PREFIX))
        {
            err.print(answer);
            err.flush();
            return null;
        }
        try
        {
            return (Map<String, Object>)Json.parse(answer.trim());
        }
        catch (final IllegalArgumentException | ClassCastException ex)
        {
            throw new IOException("unexpected answer to 'show stat json': " + ex.getMessage(), ex);
        }
    }

    /** picocli's usage errors, in one line plus a hint. */
    private static int reportUsageError(final ParameterException ex, final String[] args)
    {
        final PrintWriter err = ex.getCommandLine().getErr();
        err.println("lbctl: " + ex.getMessage());
        err.println("try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'");
        err.flush();
        return EXIT_USAGE;
    }

    /** The version from the jar manifest, which the build writes. */
    static final class Version implements CommandLine.IVersionProvider
    {
        @Override
        public String[] getVersion()
        {
            final String version = LbctlCommand.class.getPackage().getImplementationVersion();
            return new String[] {"lbctl " + (version != null ? version : "(development build)")};
        }
    }
}
