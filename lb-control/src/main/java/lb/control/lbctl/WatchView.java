package lb.control.lbctl;

import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import lb.control.config.Values;
import lb.control.socket.Table;

/**
 * What {@code lbctl watch} shows: per-backend rates computed from two consecutive
 * {@code show stat json} samples, over the time between them as the server measured it
 * ({@code sampled_at_ns}), so the rates do not depend on when lbctl happened to ask.
 */
final class WatchView
{
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    private final Path socket;
    private final Duration period;

    /**
     * One backend's rates; a rate is null when it cannot be computed (new backend, counter reset).
     */
    record BackendRate(
        String service, String ip, long port, String state, String health, long weight, long activeFlows,
        Double newFlowsPerSecond, Double packetsPerSecond, Double bytesPerSecond)
    {
    }

    /** Rates of every backend over one interval. */
    record Rates(double seconds, List<BackendRate> backends)
    {
        Map<String, Object> json()
        {
            final List<Object> list = new ArrayList<>();
            for (final BackendRate rate : backends)
            {
                final Map<String, Object> json = new LinkedHashMap<>();
                json.put("service", rate.service());
                json.put("ip", rate.ip());
                json.put("port", rate.port());
                json.put("state", rate.state());
                json.put("health", rate.health());
                json.put("weight", rate.weight());
                json.put("active_flows", rate.activeFlows());
                json.put("new_flows_per_s", rate.newFlowsPerSecond());
                json.put("packets_per_s", rate.packetsPerSecond());
                json.put("bytes_per_s", rate.bytesPerSecond());
                list.add(json);
            }
            final Map<String, Object> json = new LinkedHashMap<>();
            json.put("seconds", seconds);
            json.put("backends", list);
            return json;
        }
    }

    WatchView(final Path socket, final Duration period)
    {
        this.socket = socket;
        this.period = period;
    }

    /**
     * @param previous the earlier {@code show stat json} answer, parsed.
     * @param current  the later one.
     * @return the rates of every backend in the later sample.
     */
    Rates rates(final Map<String, Object> previous, final Map<String, Object> current)
    {
        final double seconds = (number(current, "sampled_at_ns") - number(previous, "sampled_at_ns")) / 1e9;
        final Map<String, Map<String, Object>> before = new HashMap<>();
        for (final Map<String, Object> service : list(previous, "services"))
        {
            for (final Map<String, Object> backend : list(service, "backends"))
            {
                before.put(key(service, backend), backend);
            }
        }
        final List<BackendRate> rates = new ArrayList<>();
        for (final Map<String, Object> service : list(current, "services"))
        {
            for (final Map<String, Object> backend : list(service, "backends"))
            {
                final Map<String, Object> earlier = before.get(key(service, backend));
                rates.add(new BackendRate(
                    (String)service.get("name"), (String)backend.get("ip"), number(backend, "port"),
                    (String)backend.get("state"), (String)backend.get("health"), number(backend, "weight"),
                    number(backend, "active_flows"),
                    rate(earlier, backend, "new_flows", seconds),
                    rate(earlier, backend, "packets", seconds),
                    rate(earlier, backend, "bytes", seconds)));
            }
        }
        return new Rates(seconds, rates);
    }

    /** @return a header line and the rates table. */
    String text(final Rates rates)
    {
        final Table table = new Table()
            .column("service").column("backend").column("state").column("health").numberColumn("weight")
            .numberColumn("active").numberColumn("new/s").numberColumn("packets/s").numberColumn("bytes/s");
        for (final BackendRate rate : rates.backends())
        {
            table.row(rate.service(), rate.ip() + ":" + rate.port(), rate.state(), rate.health(), rate.weight(),
                rate.activeFlows(), format(rate.newFlowsPerSecond()), format(rate.packetsPerSecond()),
                format(rate.bytesPerSecond()));
        }
        return "lb " + socket + "  every " + Values.formatDuration(period) + "  " + LocalTime.now().format(CLOCK) +
            "\n" + table.text();
    }

    /**
     * @param rate a rate per second, or null.
     * @return it with an SI prefix and three significant digits, such as {@code 12.5k}, or {@code -}.
     */
    static String format(final Double rate)
    {
        if (rate == null)
        {
            return "-";
        }
        final String[] prefixes = {"", "k", "M", "G", "T"};
        double value = rate;
        int prefix = 0;
        while (Math.abs(value) >= 999.5 && prefix < prefixes.length - 1)
        {
            value /= 1000;
            prefix++;
        }
        final String digits = Math.abs(value) >= 99.95 ? String.format(Locale.ROOT, "%.0f", value) :
            Math.abs(value) >= 9.995 ? String.format(Locale.ROOT, "%.1f", value) :
            String.format(Locale.ROOT, "%.2f", value);
        return digits + prefixes[prefix];
    }

    private static Double rate(
        final Map<String, Object> earlier, final Map<String, Object> later, final String counter, final double seconds)
    {
        if (earlier == null || seconds <= 0)
        {
            return null;
        }
        final long delta = number(later, counter) - number(earlier, counter);
        return delta < 0 ? null : delta / seconds;
    }

    private static String key(final Map<String, Object> service, final Map<String, Object> backend)
    {
        return service.get("name") + " " + backend.get("ip") + ":" + backend.get("port");
    }

    private static long number(final Map<String, Object> object, final String key)
    {
        final Object value = object.get(key);
        if (!(value instanceof Number number))
        {
            throw new IllegalArgumentException("'" + key + "' is not a number in 'show stat json'");
        }
        return number.longValue();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(final Map<String, Object> object, final String key)
    {
        final Object value = object.get(key);
        if (!(value instanceof List<?>))
        {
            throw new IllegalArgumentException("'" + key + "' is not a list in 'show stat json'");
        }
        return (List<Map<String, Object>>)value;
    }
}
