package lb.control.socket;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A table built once and shown two ways: as text with aligned columns for people (numbers
 * right-aligned, the header in capitals) and as a JSON array of objects, one per row, keyed by
 * column key, for scripts. A cell holds the raw value for JSON; {@link #cell(String, Object)}
 * lets the text show it differently (a duration as {@code 1.5s} rather than nanoseconds).
 */
public final class Table
{
    private static final String GAP = "  ";

    private final List<String> keys = new ArrayList<>();
    private final List<String> headers = new ArrayList<>();
    private final List<Boolean> rightAligned = new ArrayList<>();
    private final List<Object[]> rows = new ArrayList<>();

    /**
     * A cell that reads differently as text and as JSON.
     *
     * @param text how people see it.
     * @param json the JSON value.
     */
    public record Cell(String text, Object json)
    {
    }

    /**
     * @param text how people see it.
     * @param json the JSON value.
     * @return the cell.
     */
    public static Cell cell(final String text, final Object json)
    {
        return new Cell(text, json);
    }

    /**
     * Adds a left-aligned column.
     *
     * @param key    the JSON key; the text header is the key in capitals.
     * @return this table.
     */
    public Table column(final String key)
    {
        return add(key, false);
    }

    /**
     * Adds a right-aligned column, for numbers.
     *
     * @param key the JSON key; the text header is the key in capitals.
     * @return this table.
     */
    public Table numberColumn(final String key)
    {
        return add(key, true);
    }

    /**
     * @param cells one value per column: a {@link Cell}, a number, a string, a boolean, or
     *              {@code null} (shown as {@code -}).
     * @return this table.
     */
    public Table row(final Object... cells)
    {
        if (cells.length != keys.size())
        {
            throw new IllegalArgumentException(cells.length + " cells for " + keys.size() + " columns");
        }
        rows.add(cells.clone());
        return this;
    }

    /** @return the number of rows. */
    public int rowCount()
    {
        return rows.size();
    }

    /** @return the header line and one line per row, columns padded to their widest cell. */
    public String text()
    {
        final int columns = keys.size();
        final String[][] texts = new String[rows.size() + 1][columns];
        final int[] widths = new int[columns];
        for (int c = 0; c < columns; c++)
        {
            texts[0][c] = headers.get(c);
        }
        for (int r = 0; r < rows.size(); r++)
        {
            for (int c = 0; c < columns; c++)
            {
                texts[r + 1][c] = textOf(rows.get(r)[c]);
            }
        }
        for (final String[] line : texts)
        {
            for (int c = 0; c < columns; c++)
            {
                widths[c] = Math.max(widths[c], line[c].length());
            }
        }

        final StringBuilder out = new StringBuilder();
        for (final String[] line : texts)
        {
            final StringBuilder row = new StringBuilder();
            for (int c = 0; c < columns; c++)
            {
                if (c > 0)
                {
                    row.append(GAP);
                }
                final int padding = widths[c] - line[c].length();
                if (rightAligned.get(c))
                {
                    row.append(" ".repeat(padding)).append(line[c]);
                }
                else
                {
                    row.append(line[c]);
                    if (c < columns - 1)
                    {
                        row.append(" ".repeat(padding));
                    }
                }
            }
            out.append(row.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }

    /** @return the rows as a list of objects keyed by column key, in column order. */
    public List<Object> json()
    {
        final List<Object> list = new ArrayList<>(rows.size());
        for (final Object[] row : rows)
        {
            final Map<String, Object> object = new LinkedHashMap<>();
            for (int c = 0; c < keys.size(); c++)
            {
                object.put(keys.get(c), row[c] instanceof Cell cell ? cell.json() : row[c]);
            }
            list.add(object);
        }
        return list;
    }

    private Table add(final String key, final boolean right)
    {
        keys.add(key);
        headers.add(key.toUpperCase(Locale.ROOT));
        rightAligned.add(right);
        return this;
    }

    static String textOf(final Object value)
    {
        if (value == null)
        {
            return "-";
        }
        if (value instanceof Cell cell)
        {
            return cell.text() == null ? "-" : cell.text();
        }
        if (value instanceof Double || value instanceof Float)
        {
            return String.format(Locale.ROOT, "%.3f", ((Number)value).doubleValue());
        }
        return value.toString();
    }
}
