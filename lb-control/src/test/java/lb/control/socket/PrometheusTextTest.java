package lb.control.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import lb.control.config.Ipv4;
import lb.control.config.Protocol;
import lb.control.socket.RuntimeApi.FlowSample;
import lb.control.socket.RuntimeApi.FlowState;
import lb.control.socket.RuntimeApi.MetricFamily;
import lb.control.socket.RuntimeApi.MetricType;
import lb.control.socket.RuntimeApi.Sample;
import org.junit.jupiter.api.Test;

class PrometheusTextTest
{
    @Test
    void showMetricsFollowsTheExpositionFormat()
    {
        final InMemoryRuntime runtime = InMemoryRuntime.withWebService()
            .version("1.0 \"beta\" C:\\lb\nsecond line");
        runtime.forward("web", "198.18.1.11:80", 10, 1_000, 1_500_000);
        runtime.countDrop("no_service", 7);
        runtime.probeAnswered("web", "198.18.1.11:80", 120_000);
        for (int i = 1; i <= 1000; i++)
        {
            runtime.packetProcessed(i * 100L);
        }
        runtime.addFlow(new FlowSample(Protocol.TCP, Ipv4.parse("198.18.0.7"), 40000, Ipv4.parse("198.18.0.100"), 80,
            "web", Ipv4.parse("198.18.1.11"), 80, FlowState.ESTABLISHED, Duration.ofSeconds(3), 10, 1500));
        final CommandDispatcher dispatcher = RuntimeCommands.register(new CommandDispatcher(message -> { }), runtime);

        final String text = dispatcher.dispatch("show metrics").text();
        final Map<String, Family> families = Exposition.parse(text);

        assertEquals(1.0, families.get("lb_build_info").value(Map.of("version", "1.0 \"beta\" C:\\lb\nsecond line")));
        assertTrue(text.contains("lb_build_info{version=\"1.0 \\\"beta\\\" C:\\\\lb\\nsecond line\"} 1\n"), text);
        assertEquals("counter", families.get("lb_rx_packets_total").type);
        assertEquals(1_007.0, families.get("lb_rx_packets_total").value(Map.of()));
        assertEquals(7.0, families.get("lb_dropped_packets_total").value(Map.of("reason", "no_service")));
        assertEquals(0.0, families.get("lb_dropped_packets_total").value(Map.of("reason", "truncated")));
        assertEquals(10.0, families.get("lb_backend_flows_total").value(
            Map.of("service", "web", "backend", "198.18.1.11:80")));
        assertEquals(1_500_000.0, families.get("lb_service_bytes_total").value(Map.of("service", "web")));
        assertEquals(1.0, families.get("lb_backend_state").value(
            Map.of("service", "web", "backend", "198.18.1.12:8080", "state", "ready")));
        assertEquals(0.0, families.get("lb_backend_state").value(
            Map.of("service", "web", "backend", "198.18.1.12:8080", "state", "drain")));
        assertEquals(1.0, families.get("lb_backend_up").value(Map.of("service", "web", "backend", "198.18.1.11:80")));
        assertEquals(0.0, families.get("lb_backend_up").value(Map.of("service", "web", "backend", "198.18.1.12:8080")));
        assertEquals(120e-6, families.get("lb_backend_probe_rtt_seconds").value(
            Map.of("service", "web", "backend", "198.18.1.11:80")), 1e-12);
        assertEquals(1.0, families.get("lb_flows").value(Map.of()));
        // HdrHistogram keeps 3 significant digits: the median of 100..100000 ns is 50 us within 0.1%.
        assertEquals(50e-6, families.get("lb_packet_processing_seconds").value(Map.of("quantile", "0.5")), 50e-9);
        assertEquals(100e-6, families.get("lb_packet_processing_seconds").value(Map.of("quantile", "1")), 100e-9);
    }

    @Test
    void showMetricsJsonCarriesTheSameFamilies()
    {
        final InMemoryRuntime runtime = InMemoryRuntime.withWebService();
        final CommandDispatcher dispatcher = RuntimeCommands.register(new CommandDispatcher(message -> { }), runtime);
        final Map<String, Family> families = Exposition.parse(dispatcher.dispatch("show metrics").text());
        @SuppressWarnings("unchecked")
        final List<Map<String, Object>> json = (List<Map<String, Object>>)Json.parse(
            dispatcher.dispatch("show metrics json").text());
        final Set<String> names = new HashSet<>();
        for (final Map<String, Object> family : json)
        {
            names.add((String)family.get("name"));
            assertEquals(families.get(family.get("name")).type, family.get("type"));
        }
        assertEquals(families.keySet(), names);
    }

    @Test
    void familiesGivenTwiceAreMergedSoTheyDoNotInterleave()
    {
        final String text = PrometheusText.write(List.of(
            family("lb_a_total", MetricType.COUNTER, Map.of("w", "0"), 1L),
            family("lb_b", MetricType.GAUGE, Map.of(), 2.5),
            family("lb_a_total", MetricType.COUNTER, Map.of("w", "1"), 3L)));
        assertEquals(String.join("\n",
            "# HELP lb_a_total help of lb_a_total",
            "# TYPE lb_a_total counter",
            "lb_a_total{w=\"0\"} 1",
            "lb_a_total{w=\"1\"} 3",
            "# HELP lb_b help of lb_b",
            "# TYPE lb_b gauge",
            "lb_b 2.5",
            ""), text);
        Exposition.parse(text);
    }

    @Test
    void specialValuesAreWrittenAsTheFormatSpellsThem()
    {
        assertEquals("NaN", PrometheusText.formatValue(Double.NaN));
        assertEquals("+Inf", PrometheusText.formatValue(Double.POSITIVE_INFINITY));
        assertEquals("-Inf", PrometheusText.formatValue(Double.NEGATIVE_INFINITY));
        assertEquals("9007199254740993", PrometheusText.formatValue(9_007_199_254_740_993L));
        assertEquals("1.0E-4", PrometheusText.formatValue(1e-4));
        Exposition.parse(PrometheusText.write(List.of(family("lb_x", MetricType.GAUGE, Map.of(), Double.NaN))));
    }

    @Test
    void whatAScraperWouldRejectIsRefused()
    {
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.write(
            List.of(family("lb-bad", MetricType.GAUGE, Map.of(), 1L))));
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.write(
            List.of(family("lb_packets", MetricType.COUNTER, Map.of(), 1L))));
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.write(
            List.of(family("lb_x", MetricType.GAUGE, Map.of("bad-label", "v"), 1L))));
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.write(
            List.of(family("lb_x", MetricType.GAUGE, Map.of("__reserved", "v"), 1L))));
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.write(List.of(
            family("lb_x", MetricType.GAUGE, Map.of(), 1L), family("lb_x", MetricType.COUNTER, Map.of(), 1L))));
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.write(List.of(
            family("lb_x", MetricType.GAUGE, Map.of("a", "1"), 1L), family("lb_x", MetricType.GAUGE, Map.of("a", "1"), 2L))));
    }

    @Test
    void aRefusedFamilyIsAnInternalErrorOfShowMetrics()
    {
        final RuntimeApi broken = new InMemoryRuntime()
        {
            @Override
            public List<MetricFamily> metrics()
            {
                final List<MetricFamily> families = new ArrayList<>(RuntimeMetrics.standard(this));
                families.add(family("lb_requests", MetricType.COUNTER, Map.of(), 1L));
                return families;
            }
        };
        final List<String> log = new ArrayList<>();
        final CommandDispatcher dispatcher = RuntimeCommands.register(new CommandDispatcher(log::add), broken);
        assertEquals("error: internal error in 'show metrics': IllegalArgumentException: counter 'lb_requests' must " +
            "end in _total\n", dispatcher.dispatch("show metrics").text());
        assertEquals(1, log.size());
    }

    @Test
    void theValidatorCatchesBrokenExpositions()
    {
        // The validator below must itself reject what is wrong, or the tests above prove nothing.
        final List<String> broken = List.of(
            "lb_x 1\n",                                                             // sample before TYPE
            "# TYPE lb_x gauge\n# TYPE lb_x gauge\nlb_x 1\n",                       // two TYPEs
            "# TYPE lb_x gauge\nlb_x 1\n# TYPE lb_y gauge\nlb_y 1\nlb_x 2\n",       // interleaved
            "# TYPE lb_x counter\nlb_x 1\n",                                        // counter without _total
            "# TYPE lb_x gauge\nlb_x{a=\"b\\t\"} 1\n",                              // bad escape
            "# TYPE lb_x gauge\nlb_x{a=\"b} 1\n",                                   // unterminated value
            "# TYPE lb_x gauge\nlb_x{1a=\"b\"} 1\n",                                // bad label name
            "# TYPE lb_x gauge\nlb_x one\n",                                        // value not a float
            "# TYPE lb_x gauge\nlb_x{a=\"1\"} 1\nlb_x{a=\"1\"} 2\n",                // duplicate sample
            "# TYPE lb_x gauge\n\nlb_x 1\n",                                        // empty line
            "# TYPE lb_x gauge\nlb_x 1");                                           // no final line feed
        for (final String text : broken)
        {
            assertThrows(AssertionError.class, () -> Exposition.parse(text), text);
        }
    }

    private static MetricFamily family(final String name, final MetricType type, final Map<String, String> labels,
        final Number value)
    {
        return new MetricFamily(name, type, "help of " + name, List.of(new Sample(labels, value)));
    }

    /** A family as read back from the text. */
    static final class Family
    {
        String type;
        String help;
        final Map<Map<String, String>, Double> samples = new LinkedHashMap<>();

        double value(final Map<String, String> labels)
        {
            final Double value = samples.get(labels);
            if (value == null)
            {
                throw new AssertionError("no sample " + labels + " in " + samples.keySet());
            }
            return value;
        }
    }

    /**
     * An independent reader of the text exposition format 0.0.4 that fails (AssertionError) on
     * anything a strict scraper would reject or misread.
     */
    static final class Exposition
    {
        private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
        private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
        private static final Pattern FLOAT = Pattern.compile(
            "[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf");
        private static final Pattern HELP = Pattern.compile("# HELP (\\S+) (.*)");
        private static final Pattern TYPE = Pattern.compile("# TYPE (\\S+) (counter|gauge|histogram|summary|untyped)");

        static Map<String, Family> parse(final String text)
        {
            check(text.endsWith("\n"), "the text must end with a line feed");
            final Map<String, Family> families = new LinkedHashMap<>();
            final Set<String> finished = new HashSet<>();
            String current = null;
            for (final String line : text.substring(0, text.length() - 1).split("\n", -1))
            {
                check(!line.isEmpty(), "empty line");
                if (line.startsWith("#"))
                {
                    final Matcher help = HELP.matcher(line);
                    final Matcher type = TYPE.matcher(line);
                    final String name;
                    if (help.matches())
                    {
                        name = help.group(1);
                    }
                    else if (type.matches())
                    {
                        name = type.group(1);
                    }
                    else
                    {
                        check(line.startsWith("# ") && !line.startsWith("# HELP") && !line.startsWith("# TYPE"),
                            "malformed comment: " + line);
                        continue;
                    }
                    check(NAME.matcher(name).matches(), "bad metric name " + name);
                    current = enter(name, current, finished);
                    final Family family = families.computeIfAbsent(name, n -> new Family());
                    if (help.matches())
                    {
                        check(family.help == null, "two HELP lines for " + name);
                        checkHelpEscapes(help.group(2));
                        family.help = help.group(2);
                    }
                    else
                    {
                        check(family.type == null, "two TYPE lines for " + name);
                        check(family.samples.isEmpty(), "TYPE after samples of " + name);
                        family.type = type.group(2);
                        check(!family.type.equals("counter") || name.endsWith("_total"),
                            "counter " + name + " does not end in _total");
                    }
                    continue;
                }
                final int nameEnd = endOfName(line);
                final String name = line.substring(0, nameEnd);
                check(NAME.matcher(name).matches(), "bad sample name in: " + line);
                final Family family = families.get(name);
                check(family != null && family.type != null, "sample of " + name + " before its TYPE line");
                current = enter(name, current, finished);
                int position = nameEnd;
                final Map<String, String> labels = new LinkedHashMap<>();
                if (position < line.length() && line.charAt(position) == '{')
                {
                    position = readLabels(line, position + 1, labels);
                }
                check(position < line.length() && line.charAt(position) == ' ', "no space before the value: " + line);
                final String[] rest = line.substring(position + 1).split(" ");
                check(rest.length == 1 || rest.length == 2, "trailing text: " + line);
                check(FLOAT.matcher(rest[0]).matches(), "value is not a float: " + line);
                if (rest.length == 2)
                {
                    check(rest[1].matches("-?[0-9]+"), "bad timestamp: " + line);
                }
                final double value = rest[0].equals("NaN") ? Double.NaN : rest[0].equals("+Inf") ?
                    Double.POSITIVE_INFINITY : rest[0].equals("-Inf") ? Double.NEGATIVE_INFINITY :
                    Double.parseDouble(rest[0]);
                check(family.samples.put(new HashMap<>(labels), value) == null, "duplicate sample: " + line);
            }
            return families;
        }

        /** Families must not interleave: once another family has started, a finished one may not return. */
        private static String enter(final String name, final String current, final Set<String> finished)
        {
            if (name.equals(current))
            {
                return current;
            }
            check(!finished.contains(name), "family " + name + " is interleaved with another");
            if (current != null)
            {
                finished.add(current);
            }
            return name;
        }

        private static int endOfName(final String line)
        {
            int i = 0;
            while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ')
            {
                i++;
            }
            return i;
        }

        private static int readLabels(final String line, final int start, final Map<String, String> labels)
        {
            int i = start;
            while (true)
            {
                check(i < line.length(), "unterminated labels: " + line);
                if (line.charAt(i) == '}')
                {
                    return i + 1;
                }
                final int equals = line.indexOf('=', i);
                check(equals > i, "label without '=': " + line);
                final String labelName = line.substring(i, equals);
                check(LABEL_NAME.matcher(labelName).matches() && !labelName.startsWith("__"),
                    "bad label name '" + labelName + "'");
                check(equals + 1 < line.length() && line.charAt(equals + 1) == '"', "label value not quoted: " + line);
                final StringBuilder value = new StringBuilder();
                i = equals + 2;
                while (true)
                {
                    check(i < line.length(), "unterminated label value: " + line);
                    final char c = line.charAt(i++);
                    if (c == '"')
                    {
                        break;
                    }
                    if (c == '\\')
                    {
                        check(i < line.length(), "dangling backslash: " + line);
                        final char escaped = line.charAt(i++);
                        check(escaped == '\\' || escaped == '"' || escaped == 'n', "bad escape \\" + escaped);
                        value.append(escaped == 'n' ? '\n' : escaped);
                    }
                    else
                    {
                        value.append(c);
                    }
                }
                check(labels.put(labelName, value.toString()) == null, "label " + labelName + " twice: " + line);
                check(i < line.length(), "unterminated labels: " + line);
                if (line.charAt(i) == ',')
                {
                    i++;
                }
                else
                {
                    check(line.charAt(i) == '}', "expected ',' or '}': " + line);
                }
            }
        }

        private static void checkHelpEscapes(final String help)
        {
            for (int i = 0; i < help.length(); i++)
            {
                if (help.charAt(i) == '\\')
                {
                    check(i + 1 < help.length() && (help.charAt(i + 1) == '\\' || help.charAt(i + 1) == 'n'),
                        "bad escape in HELP: " + help);
                    i++;
                }
            }
        }

        private static void check(final boolean condition, final String message)
        {
            if (!condition)
            {
                throw new AssertionError(message);
            }
        }
    }
}
