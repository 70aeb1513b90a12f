package lb.control.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import lb.dataplane.pipeline.ForwardingMode;
import lb.dataplane.spread.SpreadPolicy;


/**
 * Parsers for single setting values, shared by the config file and the command line so both
 * accept the same text and say the same thing about bad text. Each throws
 * {@link IllegalArgumentException} whose message says what was expected and what it got; the
 * caller prefixes the place and field to make a {@link ConfigException}.
 */
public final class Values
{
    /** The smallest flow table: below this the table is a toy. */
    public static final int MIN_FLOW_CAPACITY = 1 << 10;
    /** The largest flow table: 64 Mi flows of two 64-byte entries is 8 GiB already. */
    /** Each flow is two entries and a flow table holds at most 25,000,000 entries. */
    public static final int MAX_FLOW_CAPACITY = 12_500_000;
    /**
     * The largest IPv6 flow table: 128-byte slots at a load of at most 3/4 are about 170.7 bytes per
     * entry, and 8 Mi entries (1.33 GiB) keep one table's memory under the 2 GiB an int index reaches.
     */
    public static final int MAX_FLOW_TABLE_SIZE6 = 1 << 23;
    /** Backends of one service (the size of a backend pool). */
    public static final int MAX_BACKENDS_PER_SERVICE = 256;
    /** Maglev wants at least this many table slots per backend for an even spread. */
    public static final int MAGLEV_SLOTS_PER_BACKEND = 100;
    /** The highest CPU number a worker can be pinned to (glibc's cpu_set_t holds 1024). */
    public static final int MAX_CPU = 1023;
    /** The most dataplane workers. */
    public static final int MAX_WORKERS = 64;
    /** The smallest receive frame slot: the kernel's frame header plus a minimum Ethernet frame. */
    public static final int MIN_FRAME_SIZE = 256;
    /** The largest receive frame slot: a full GSO super-frame. */
    public static final int MAX_FRAME_SIZE = 1 << 16;
    /** The fewest receive frame slots. */
    public static final int MIN_FRAME_COUNT = 16;
    /** The most receive frame slots. */
    public static final int MAX_FRAME_COUNT = 1 << 20;
    /** The largest Maglev table: the largest prime below 2^24. */
    public static final int MAX_MAGLEV_TABLE_SIZE = 16_777_213;
    /** Linux interface names are at most IFNAMSIZ - 1 = 15 bytes. */
    public static final int MAX_INTERFACE_NAME = 15;
    /** A unix socket path must fit sun_path (108 bytes) with its terminating NUL. */
    public static final int MAX_SOCKET_PATH_BYTES = 107;
    /** The longest service name. */
    public static final int MAX_SERVICE_NAME = 64;

    private static final Pattern DURATION = Pattern.compile("([0-9]+)(ms|s|m|h)");
    private static final Pattern SPIN = Pattern.compile("([0-9]+)(us|ms)|0");
    /** The longest idle spin: beyond it, sleeping is always the cheaper way to wait. */
    public static final Duration MAX_IDLE_SPIN = Duration.ofMillis(10);
    private static final Pattern SERVICE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");

    private Values()
    {
    }

    /**
     * A service's address as written {@code VIP:PORT/PROTO}.
     *
     * @param vip      the virtual address.
     * @param port     the port.
     * @param protocol the protocol.
     */
    public record ServiceAddress(int vip, int port, Protocol protocol)
    {
    }

    /**
     * A backend's address as written {@code IP[:PORT]}.
     *
     * @param ip   the address.
     * @param port the port, or {@link BackendConfig#SAME_PORT} when none was written.
     */
    public record BackendAddress(int ip, int port)
    {
    }

    /**
     * @param text decimal digits.
     * @param min  the smallest accepted value.
     * @param max  the largest accepted value.
     * @return the value.
     */
    public static int integer(final String text, final int min, final int max)
    {
        final long value = parseDecimal(text);
        if (value < min || value > max)
        {
            throw new IllegalArgumentException("expected an integer " + min + ".." + max + ", got '" + text + "'");
        }
        return (int)value;
    }

    /**
     * @param text a port number.
     * @return the port, 1..65535.
     */
    public static int port(final String text)
    {
        final long value = parseDecimal(text);
        if (value < 1 || value > 65535)
        {
            throw new IllegalArgumentException("expected a port 1..65535, got '" + text + "'");
        }
        return (int)value;
    }

    /**
     * @param text ARP probe retries.
     * @return the count, 0..{@link ProbeConfig#MAX_RETRIES}.
     */
    public static int probeRetries(final String text)
    {
        return integer(text, 0, ProbeConfig.MAX_RETRIES);
    }

    /**
     * @param text a TCP check's rise or fall count.
     * @return the count, 1..{@link TcpCheckConfig#MAX_COUNT}.
     */
    public static int checkCount(final String text)
    {
        return integer(text, 1, TcpCheckConfig.MAX_COUNT);
    }

    /**
     * @param text {@code tcp} or {@code none}.
     * @return whether the service has a TCP check.
     */
    public static boolean checkKind(final String text)
    {
        if (text.equals("tcp") || text.equals("none"))
        {
            return text.equals("tcp");
        }
        throw new IllegalArgumentException("expected tcp or none, got '" + text + "'");
    }

    /**
     * @param text a backend weight.
     * @return the weight, 0..{@link BackendConfig#MAX_WEIGHT}.
     */
    public static int weight(final String text)
    {
        return integer(text, 0, BackendConfig.MAX_WEIGHT);
    }

    /**
     * @param text a number followed by a unit: {@code ms}, {@code s}, {@code m} or {@code h}.
     * @return the duration, positive.
     */
    public static Duration duration(final String text)
    {
        final Matcher matcher = DURATION.matcher(text);
        if (!matcher.matches())
        {
            throw new IllegalArgumentException(
                "expected a duration such as 500ms, 5s, 2m or 1h, got '" + text + "'");
        }
        final long millisPerUnit = switch (matcher.group(2))
        {
            case "ms" -> 1L;
            case "s" -> 1_000L;
            case "m" -> 60_000L;
            default -> 3_600_000L;
        };
        final long amount = parseDecimal(matcher.group(1));
        if (amount == 0)
        {
            throw new IllegalArgumentException("expected a positive duration, got '" + text + "'");
        }
        if (amount > Long.MAX_VALUE / 1_000_000L / millisPerUnit)
        {
            throw new IllegalArgumentException("duration '" + text + "' is too long");
        }
        return Duration.ofMillis(amount * millisPerUnit);
    }

    /**
     * @param duration a duration.
     * @return it in the largest unit that keeps it exact, for example {@code 5s} or {@code 1500ms}.
     */
    public static String formatDuration(final Duration duration)
    {
        final long millis = duration.toMillis();
        if (millis % 3_600_000L == 0)
        {
            return millis / 3_600_000L + "h";
        }
        if (millis % 60_000L == 0)
        {
            return millis / 60_000L + "m";
        }
        if (millis % 1_000L == 0)
        {
            return millis / 1_000L + "s";
        }
        return millis + "ms";
    }

    /**
     * @param text a scheduler name.
     * @return the name, one of {@link ServiceConfig#SCHEDULERS}.
     */
    public static String scheduler(final String text)
    {
        if (!ServiceConfig.SCHEDULERS.contains(text))
        {
            throw new IllegalArgumentException(
                "unknown scheduler '" + text + "'" + didYouMean(text, ServiceConfig.SCHEDULERS) +
                ", expected one of " + String.join(", ", ServiceConfig.SCHEDULERS));
        }
        return text;
    }

    /**
     * @param text nat, dsr or ipip.
     * @return the forwarding mode.
     */
    public static ForwardingMode mode(final String text)
    {
        return named("mode", text, ForwardingMode.values(), ForwardingMode::configName);
    }

    /**
     * @param text a spread policy's name (packet, flow-random, flow-hash, least-flows, flowlet).
     * @return the policy.
     */
    public static SpreadPolicy spreadPolicy(final String text)
    {
        return named("policy", text, SpreadPolicy.values(), SpreadPolicy::configName);
    }

    /** The value whose config name is {@code text}; else an error naming the choices (and the likeliest). */
    private static <E> E named(final String kind, final String text, final E[] values, final Function<E, String> name)
    {
        for (final E value : values)
        {
            if (name.apply(value).equals(text))
            {
                return value;
            }
        }
        final List<String> names = Arrays.stream(values).map(name).toList();
        throw new IllegalArgumentException("unknown " + kind + " '" + text + "'" + didYouMean(text, names) +
            ", expected one of " + String.join(", ", names));
    }

    /**
     * @param text on or off.
     * @return true for on.
     */
    public static boolean onOff(final String text)
    {
        if (text.equals("on") || text.equals("off"))
        {
            return text.equals("on");
        }
        throw new IllegalArgumentException("expected on or off, got '" + text + "'");
    }

    /**
     * @param text a 32-bit AS number, 1..4294967295.
     * @return the number.
     */
    public static long asNumber(final String text)
    {
        if (!text.matches("[0-9]{1,10}") || Long.parseLong(text) < 1 || Long.parseLong(text) > 0xFFFF_FFFFL)
        {
            throw new IllegalArgumentException("AS number '" + text + "' is not 1..4294967295");
        }
        return Long.parseLong(text);
    }

    /** An address with an AS number: one end of a BGP session. */
    public record IpAndAs(int ip, long as)
    {
    }

    /**
     * @param text {@code tcp} or {@code udp}.
     * @return the protocol.
     */
    public static Protocol protocol(final String text)
    {
        for (final Protocol protocol : Protocol.values())
        {
            if (protocol.configName().equals(text))
            {
                return protocol;
            }
        }
        throw new IllegalArgumentException("expected tcp or udp, got '" + text + "'");
    }

    /**
     * @param text {@code backoff}, {@code spin} or {@code yield}.
     * @return the idle strategy.
     */
    public static IdleStrategyKind idleStrategy(final String text)
    {
        for (final IdleStrategyKind kind : IdleStrategyKind.values())
        {
            if (kind.configName().equals(text))
            {
                return kind;
            }
        }
        throw new IllegalArgumentException("expected backoff, spin or yield, got '" + text + "'");
    }

    /**
     * @param text {@code 0} or a number followed by {@code us} or {@code ms}, at most
     *             {@link #MAX_IDLE_SPIN}.
     * @return how long an idle worker spins before it sleeps.
     */
    public static Duration idleSpin(final String text)
    {
        final Matcher matcher = SPIN.matcher(text);
        if (!matcher.matches())
        {
            throw new IllegalArgumentException("expected 0 or a duration such as 20us or 1ms, got '" + text + "'");
        }
        if (matcher.group(1) == null)
        {
            return Duration.ZERO;
        }
        final long amount = parseDecimal(matcher.group(1));
        final long microsPerUnit = "us".equals(matcher.group(2)) ? 1L : 1_000L;
        final long limitMicros = MAX_IDLE_SPIN.toNanos() / 1_000L;
        if (amount > limitMicros / microsPerUnit)
        {
            throw new IllegalArgumentException("idle spin '" + text + "' is longer than " + limitMicros / 1_000L + "ms");
        }
        return Duration.ofNanos(amount * microsPerUnit * 1_000L);
    }

    /**
     * @param duration an idle spin.
     * @return it as {@link #idleSpin} reads it: {@code 0}, {@code 20us} or {@code 2ms}.
     */
    public static String formatIdleSpin(final Duration duration)
    {
        final long micros = duration.toNanos() / 1_000L;
        if (micros == 0)
        {
            return "0";
        }
        return micros % 1_000L == 0 ? micros / 1_000L + "ms" : micros + "us";
    }

    /**
     * @param text {@code v2} or {@code v3}.
     * @return the ring version.
     */
    public static RingVersion ringVersion(final String text)
    {
        for (final RingVersion version : RingVersion.values())
        {
            if (version.configName().equals(text))
            {
                return version;
            }
        }
        throw new IllegalArgumentException("expected v2 or v3, got '" + text + "'");
    }

    /**
     * @param text the flow table capacity.
     * @return it, {@link #MIN_FLOW_CAPACITY}..{@link #MAX_FLOW_CAPACITY}.
     */
    public static int flowCapacity(final String text)
    {
        return integer(text, MIN_FLOW_CAPACITY, MAX_FLOW_CAPACITY);
    }

    /**
     * @param text the IPv6 flow table's size in entries.
     * @return it, {@link #MIN_FLOW_CAPACITY}..{@link #MAX_FLOW_TABLE_SIZE6}.
     */
    public static int flowTableSize6(final String text)
    {
        return integer(text, MIN_FLOW_CAPACITY, MAX_FLOW_TABLE_SIZE6);
    }

    /**
     * @param text the number of dataplane workers.
     * @return it, 1..{@link #MAX_WORKERS}.
     */
    public static int workers(final String text)
    {
        return integer(text, 1, MAX_WORKERS);
    }

    /**
     * @param text a comma-separated list of distinct CPU numbers, one per worker, e.g. {@code 2,3},
     *             or {@code none}.
     * @return the CPUs, in worker order; empty for none.
     */
    public static List<Integer> workerCpus(final String text)
    {
        if ("none".equals(text))
        {
            return List.of();
        }
        final List<Integer> cpus = new ArrayList<>();
        for (final String part : text.split(",", -1))
        {
            final int cpu;
            try
            {
                cpu = integer(part, 0, MAX_CPU);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException(
                    "expected none or CPU numbers 0.." + MAX_CPU + " separated by commas, got '" + text + "'");
            }
            if (cpus.contains(cpu))
            {
                throw new IllegalArgumentException("CPU " + cpu + " is given twice in '" + text + "': one worker per CPU");
            }
            cpus.add(cpu);
        }
        return List.copyOf(cpus);
    }

    /**
     * @param cpus worker CPUs.
     * @return them as {@link #workerCpus} reads them.
     */
    public static String formatWorkerCpus(final List<Integer> cpus)
    {
        return cpus.isEmpty() ? "none" : cpus.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    /**
     * @param text the receive ring frame size in bytes.
     * @return it, a power of two {@link #MIN_FRAME_SIZE}..{@link #MAX_FRAME_SIZE}, so frames
     *         tile pages and blocks exactly.
     */
    public static int frameSize(final String text)
    {
        return powerOfTwo(text, MIN_FRAME_SIZE, MAX_FRAME_SIZE);
    }

    /**
     * @param text the receive ring frame count.
     * @return it, a power of two {@link #MIN_FRAME_COUNT}..{@link #MAX_FRAME_COUNT}.
     */
    public static int frameCount(final String text)
    {
        return powerOfTwo(text, MIN_FRAME_COUNT, MAX_FRAME_COUNT);
    }

    /**
     * @param text the Maglev table size.
     * @return it, a prime up to {@link #MAX_MAGLEV_TABLE_SIZE}: Maglev's permutations cover the
     *         whole table only when its size is prime.
     */
    public static int maglevTableSize(final String text)
    {
        final long value = parseDecimal(text);
        if (value < 2 || value > MAX_MAGLEV_TABLE_SIZE || !isPrime((int)value))
        {
            throw new IllegalArgumentException(
                "expected a prime 2.." + MAX_MAGLEV_TABLE_SIZE + " (such as 251, 65537 or 655373), got '" + text + "'");
        }
        return (int)value;
    }

    /**
     * @param text a network interface name.
     * @return it, 1..15 bytes with no '/' and no white space, as Linux requires.
     */
    public static String interfaceName(final String text)
    {
        final int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes > MAX_INTERFACE_NAME || text.contains("/") || hasWhitespace(text) ||
            text.equals(".") || text.equals(".."))
        {
            throw new IllegalArgumentException(
                "expected an interface name of 1.." + MAX_INTERFACE_NAME + " characters without '/' or spaces, got '" +
                text + "'");
        }
        return text;
    }

    /**
     * @param text a service name.
     * @return it: a letter or digit, then letters, digits, '_', '.' or '-', at most 64 characters.
     */
    public static String serviceName(final String text)
    {
        if (text.length() > MAX_SERVICE_NAME || !SERVICE_NAME.matcher(text).matches())
        {
            throw new IllegalArgumentException(
                "expected a name of letters, digits, '_', '.' and '-' (at most " + MAX_SERVICE_NAME +
                " characters, starting with a letter or digit), got '" + text + "'");
        }
        return text;
    }

    /**
     * @param text a unix socket path.
     * @return the path; it must fit a unix socket address.
     */
    public static Path controlSocket(final String text)
    {
        final int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || hasWhitespace(text) || text.indexOf('\0') >= 0)
        {
            throw new IllegalArgumentException("expected a socket path, got '" + text + "'");
        }
        if (bytes > MAX_SOCKET_PATH_BYTES)
        {
            throw new IllegalArgumentException(
                "path is " + bytes + " bytes, a unix socket path holds at most " + MAX_SOCKET_PATH_BYTES);
        }
        return Path.of(text);
    }

    /**
     * @param text {@code VIP:PORT/PROTO}, for example {@code 198.18.0.100:80/tcp}, or with an IPv6
     *             VIP in brackets (RFC 5952 section 6), {@code [2001:2::100]:80/tcp}.
     * @return its parts; an IPv6 VIP as its alias ({@link IpAddresses}).
     */
    public static ServiceAddress serviceAddress(final String text)
    {
        final int close = text.startsWith("[") ? text.indexOf(']') : -1;
        final int colon = close >= 0 ? close + 1 : text.indexOf(':');
        final int slash = text.indexOf('/', Math.max(colon, 0));
        if (close < 0 && colon >= 0 && text.indexOf(':', colon + 1) >= 0)
        {
            throw new IllegalArgumentException("expected VIP:PORT/PROTO with an IPv6 VIP in brackets such as " +
                "[2001:2::100]:80/tcp, got '" + text + "'");
        }
        if (colon < 0 || colon >= text.length() || text.charAt(colon) != ':' || slash < colon)
        {
            throw new IllegalArgumentException(
                "expected VIP:PORT/PROTO such as 198.18.0.100:80/tcp or [2001:2::100]:80/tcp, got '" + text + "'");
        }
        return new ServiceAddress(
            close >= 0 ? IpAddresses.parseIpv6(text.substring(1, close)) : IpAddresses.parse(text.substring(0, colon)),
            port(text.substring(colon + 1, slash)),
            protocol(text.substring(slash + 1)));
    }

    /**
     * @param text {@code IP} or {@code IP:PORT}, for example {@code 198.18.1.12:8080}; an IPv6
     *             address bare ({@code 2001:2:0:1::11}) or, with a port, in brackets
     *             ({@code [2001:2:0:1::11]:8080}).
     * @return its parts; the port is {@link BackendConfig#SAME_PORT} when none was written.
     */
    public static BackendAddress backendAddress(final String text)
    {
        if (text.startsWith("["))
        {
            final int close = text.indexOf(']');
            if (close < 0 || close + 1 < text.length() && text.charAt(close + 1) != ':')
            {
                throw new IllegalArgumentException("expected [IPv6]:PORT such as [2001:2:0:1::11]:8080, got '" + text + "'");
            }
            final int ip = IpAddresses.parseIpv6(text.substring(1, close));
            return new BackendAddress(ip, close + 1 == text.length() ? BackendConfig.SAME_PORT : port(text.substring(close + 2)));
        }
        final int colon = text.indexOf(':');
        if (colon < 0 || text.indexOf(':', colon + 1) >= 0)
        {
            return new BackendAddress(IpAddresses.parse(text), BackendConfig.SAME_PORT);
        }
        return new BackendAddress(IpAddresses.parse(text.substring(0, colon)), port(text.substring(colon + 1)));
    }

    /**
     * @param ip   an address or alias.
     * @param port a port, or {@link BackendConfig#SAME_PORT}.
     * @return it as written: {@code IP}, {@code IP:PORT}, {@code IPv6} or {@code [IPv6]:PORT}.
     */
    public static String formatBackend(final int ip, final int port)
    {
        return port == BackendConfig.SAME_PORT ? IpAddresses.format(ip) : IpAddresses.endpoint(ip, port);
    }

    /**
     * A suggestion for a misspelt word: the closest candidate within a small edit distance
     * (insertions, deletions, substitutions and swaps of neighbours each count one).
     *
     * @param word       what the user wrote.
     * @param candidates the words that would have been valid.
     * @return {@code " (did you mean 'x'?)"}, or the empty string when nothing is close.
     */
    public static String didYouMean(final String word, final Collection<String> candidates)
    {
        final int limit = Math.min(2, Math.max(1, word.length() / 3));
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (final String candidate : candidates)
        {
            final int distance = editDistance(word, candidate);
            if (distance <= limit && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best == null ? "" : " (did you mean '" + best + "'?)";
    }

    /**
     * The optimal string alignment distance between two words.
     *
     * @param a one word.
     * @param b the other.
     * @return the number of single-character insertions, deletions, substitutions and swaps of
     *         neighbours that turn one into the other.
     */
    static int editDistance(final String a, final String b)
    {
        final int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++)
        {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++)
        {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++)
        {
            for (int j = 1; j <= b.length(); j++)
            {
                final int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                int best = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1))
                {
                    best = Math.min(best, d[i - 2][j - 2] + 1);
                }
                d[i][j] = best;
            }
        }
        return d[a.length()][b.length()];
    }

    private static int powerOfTwo(final String text, final int min, final int max)
    {
        final long value = parseDecimal(text);
        if (value < min || value > max || Long.bitCount(value) != 1)
        {
            throw new IllegalArgumentException(
                "expected a power of two " + min + ".." + max + ", got '" + text + "'");
        }
        return (int)value;
    }

    /**
     * Parses plain decimal digits, which Integer.parseInt does not insist on (it takes a sign),
     * and returns -1 for anything else, which every range check then rejects with its own message.
     */
    private static long parseDecimal(final String text)
    {
        if (text.isEmpty() || text.length() > 18)
        {
            return text.isEmpty() ? -1 : Long.MAX_VALUE;
        }
        long value = 0;
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (c < '0' || c > '9')
            {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    private static boolean isPrime(final int value)
    {
        if (value < 4)
        {
            return value >= 2;
        }
        if (value % 2 == 0)
        {
            return false;
        }
        for (int divisor = 3; (long)divisor * divisor <= value; divisor += 2)
        {
            if (value % divisor == 0)
            {
                return false;
            }
        }
        return true;
    }

    private static boolean hasWhitespace(final String text)
    {
        for (int i = 0; i < text.length(); i++)
        {
            if (Character.isWhitespace(text.charAt(i)))
            {
                return true;
            }
        }
        return false;
    }
}
