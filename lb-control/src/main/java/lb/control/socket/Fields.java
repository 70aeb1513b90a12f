package lb.control.socket;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Named values, in order, shown as {@code name: value} lines for people (names padded so the
 * values line up) and as one JSON object for scripts. A field's text may differ from its JSON
 * value, as in {@link Table}.
 */
public final class Fields
{
    private final List<String> textKeys = new ArrayList<>();
    private final List<Object> values = new ArrayList<>();
    private final List<String> jsonKeys = new ArrayList<>();

    /**
     * @param key   the name, also the JSON key.
     * @param value a number, string, boolean, {@code null}, or a {@link Table.Cell} to show differently as text.
     * @return this.
     */
    public Fields add(final String key, final Object value)
    {
        return add(key, value, key);
    }

    /**
     * Adds a field whose name differs between the forms, such as {@code uptime: 2h 5m 0s} for
     * people and {@code "uptime_ns": 7500000000000} for scripts.
     *
     * @param textKey the name in the text form.
     * @param value   the value; a {@link Table.Cell} to show it differently as text.
     * @param jsonKey the JSON key.
     * @return this.
     */
    public Fields add(final String textKey, final Object value, final String jsonKey)
    {
        textKeys.add(textKey);
        values.add(value);
        jsonKeys.add(jsonKey);
        return this;
    }

    /** @return one {@code name: value} line per field. */
    public String text()
    {
        int width = 0;
        for (final String key : textKeys)
        {
            width = Math.max(width, key.length());
        }
        final StringBuilder out = new StringBuilder();
        for (int i = 0; i < textKeys.size(); i++)
        {
            final String key = textKeys.get(i);
            out.append(key).append(':').append(" ".repeat(width - key.length() + 1))
                .append(Table.textOf(values.get(i))).append('\n');
        }
        return out.toString();
    }

    /** @return the fields as one JSON object. */
    public Map<String, Object> json()
    {
        final Map<String, Object> object = new LinkedHashMap<>();
        for (int i = 0; i < jsonKeys.size(); i++)
        {
            final Object value = values.get(i);
            object.put(jsonKeys.get(i), value instanceof Table.Cell cell ? cell.json() : value);
        }
        return object;
    }
}
