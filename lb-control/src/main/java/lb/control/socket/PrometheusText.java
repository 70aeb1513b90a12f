package lb.control.socket;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import lb.control.socket.RuntimeApi.MetricFamily;
import lb.control.socket.RuntimeApi.MetricType;
import lb.control.socket.RuntimeApi.Sample;

/**
 * Writes metric families in the Prometheus text exposition format, version 0.0.4: per family a
 * {@code # HELP} and a {@code # TYPE} line, then its samples, families never interleaved.
 * <p>
 * It refuses (with {@link IllegalArgumentException}) what a scraper would reject or misread
 * rather than repairing it quietly: a bad metric or label name, a counter whose name does not end
 * in {@code _total}, one name with two types, two samples with the same labels. Families given
 * twice under one name are merged, so their samples stay together.
 */
public final class PrometheusText
{
    /** The Content-Type an HTTP exporter would send with this text. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

    private PrometheusText()
    {
    }

    /**
     * @param families metric families, possibly several with one name.
     * @return the exposition text, every line ended by {@code \n}.
     */
    public static String write(final List<MetricFamily> families)
    {
        final Map<String, MetricFamily> merged = new LinkedHashMap<>();
        for (final MetricFamily family : families)
        {
            check(family);
            final MetricFamily earlier = merged.get(family.name());
            if (earlier == null)
            {
                merged.put(family.name(), family);
                continue;
            }
            if (earlier.type() != family.type())
            {
                throw new IllegalArgumentException(
                    "metric " + family.name() + " is both a " + earlier.type() + " and a " + family.type());
            }
            final List<Sample> samples = new ArrayList<>(earlier.samples());
            samples.addAll(family.samples());
            merged.put(family.name(), new MetricFamily(family.name(), family.type(), earlier.help(), samples));
        }

        final StringBuilder out = new StringBuilder(4096);
        for (final MetricFamily family : merged.values())
        {
            out.append("# HELP ").append(family.name()).append(' ').append(escapeHelp(family.help())).append('\n');
            out.append("# TYPE ").append(family.name()).append(' ')
                .append(family.type() == MetricType.COUNTER ? "counter" : "gauge").append('\n');
            final Set<Map<String, String>> seen = new HashSet<>();
            for (final Sample sample : family.samples())
            {
                if (!seen.add(sample.labels()))
                {
                    throw new IllegalArgumentException("metric " + family.name() + " has two samples " + sample.labels());
                }
                out.append(family.name());
                writeLabels(sample.labels(), out);
                out.append(' ').append(formatValue(sample.value())).append('\n');
            }
        }
        return out.toString();
    }

    /**
     * @param value a sample value.
     * @return it as the format writes it: a whole number exactly, {@code NaN}, {@code +Inf},
     *         {@code -Inf}, or a Go-parsable float.
     */
    public static String formatValue(final Number value)
    {
        if (value instanceof Double || value instanceof Float)
        {
            final double number = value.doubleValue();
            if (Double.isNaN(number))
            {
                return "NaN";
            }
            if (Double.isInfinite(number))
            {
                return number > 0 ? "+Inf" : "-Inf";
            }
            return Double.toString(number);
        }
        return Long.toString(value.longValue());
    }

    /**
     * @param value a label value.
     * @return it with backslash, double quote and line feed escaped, as the format requires.
     */
    public static String escapeLabelValue(final String value)
    {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static String escapeHelp(final String help)
    {
        return help.replace("\\", "\\\\").replace("\n", "\\n");
    }

    private static void writeLabels(final Map<String, String> labels, final StringBuilder out)
    {
        if (labels.isEmpty())
        {
            return;
        }
        out.append('{');
        boolean first = true;
        for (final Map.Entry<String, String> label : labels.entrySet())
        {
            if (!first)
            {
                out.append(',');
            }
            first = false;
            out.append(label.getKey()).append("=\"").append(escapeLabelValue(label.getValue())).append('"');
        }
        out.append('}');
    }

    private static void check(final MetricFamily family)
    {
        final String name = family.name();
        if (!METRIC_NAME.matcher(name).matches())
        {
            throw new IllegalArgumentException("bad metric name '" + name + "'");
        }
        if (family.type() == MetricType.COUNTER && !name.endsWith("_total"))
        {
            throw new IllegalArgumentException("counter '" + name + "' must end in _total");
        }
        for (final Sample sample : family.samples())
        {
            for (final Map.Entry<String, String> label : sample.labels().entrySet())
            {
                if (!LABEL_NAME.matcher(label.getKey()).matches() || label.getKey().startsWith("__"))
                {
                    throw new IllegalArgumentException("metric " + name + ": bad label name '" + label.getKey() + "'");
                }
                if (label.getValue() == null)
                {
                    throw new IllegalArgumentException("metric " + name + ": label " + label.getKey() + " has no value");
                }
            }
        }
    }
}
