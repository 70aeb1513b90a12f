package lb.control.socket;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The little JSON the control socket needs, since the project has no JSON library: values are
 * {@code Map<String, ?>} (objects, in insertion order), {@code List<?>}, {@code String},
 * {@code Number}, {@code Boolean} and {@code null}.
 * <p>
 * {@link #write} produces one line (no raw line breaks, they are escaped in strings), so a JSON
 * answer never contains the empty line that ends an answer on the socket. {@link #parse} reads
 * integers as {@code Long} and other numbers as {@code Double}.
 */
public final class Json
{
    private Json()
    {
    }

    /**
     * @param value a JSON value tree.
     * @return it as compact JSON text on one line. Non-finite doubles become {@code null}.
     * @throws IllegalArgumentException if the tree holds anything else.
     */
    public static String write(final Object value)
    {
        final StringBuilder out = new StringBuilder(256);
        write(value, out);
        return out.toString();
    }

    /**
     * @param text one JSON document.
     * @return its value tree.
     * @throws IllegalArgumentException naming the offset of the first syntax error.
     */
    public static Object parse(final String text)
    {
        final Parser parser = new Parser(text);
        parser.skipSpace();
        final Object value = parser.value();
        parser.skipSpace();
        if (parser.position != text.length())
        {
            throw parser.error("trailing characters");
        }
        return value;
    }

    private static void write(final Object value, final StringBuilder out)
    {
        if (value == null)
        {
            out.append("null");
        }
        else if (value instanceof String string)
        {
            quote(string, out);
        }
        else if (value instanceof Double || value instanceof Float)
        {
            final double number = ((Number)value).doubleValue();
            out.append(Double.isFinite(number) ? formatDouble(number) : "null");
        }
        else if (value instanceof Number || value instanceof Boolean)
        {
            out.append(value);
        }
        else if (value instanceof Map<?, ?> map)
        {
            out.append('{');
            boolean first = true;
            for (final Map.Entry<?, ?> entry : map.entrySet())
            {
                if (!first)
                {
                    out.append(',');
                }
                first = false;
                quote(String.valueOf(entry.getKey()), out);
                out.append(':');
                write(entry.getValue(), out);
            }
            out.append('}');
        }
        else if (value instanceof List<?> list)
        {
            out.append('[');
            for (int i = 0; i < list.size(); i++)
            {
                if (i > 0)
                {
                    out.append(',');
                }
                write(list.get(i), out);
            }
            out.append(']');
        }
        else
        {
            throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
        }
    }

    /** Whole numbers without a fraction ("2.0" reads as a float to some tools, "2" does not). */
    private static String formatDouble(final double number)
    {
        if (number == Math.rint(number) && Math.abs(number) < 1e15)
        {
            return Long.toString((long)number);
        }
        return Double.toString(number);
    }

    private static void quote(final String text, final StringBuilder out)
    {
        out.append('"');
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            switch (c)
            {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default ->
                {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029)
                    {
                        out.append(String.format("\\u%04x", (int)c));
                    }
                    else
                    {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** A recursive-descent reader over one document. */
    private static final class Parser
    {
        private static final int MAX_DEPTH = 64;

        private final String text;
        private int position;
        private int depth;

        Parser(final String text)
        {
            this.text = text;
        }

        Object value()
        {
            if (position >= text.length())
            {
                throw error("unexpected end");
            }
            final char c = text.charAt(position);
            return switch (c)
            {
                case '{' -> object();
                case '[' -> array();
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default ->
                {
                    if (c == '-' || (c >= '0' && c <= '9'))
                    {
                        yield number();
                    }
                    throw error("unexpected '" + c + "'");
                }
            };
        }

        private Map<String, Object> object()
        {
            enter();
            final Map<String, Object> map = new LinkedHashMap<>();
            position++;
            skipSpace();
            if (peek() == '}')
            {
                position++;
                depth--;
                return map;
            }
            while (true)
            {
                skipSpace();
                if (peek() != '"')
                {
                    throw error("expected a string key");
                }
                final String key = string();
                skipSpace();
                expect(':');
                skipSpace();
                map.put(key, value());
                skipSpace();
                if (peek() == ',')
                {
                    position++;
                    continue;
                }
                expect('}');
                depth--;
                return map;
            }
        }

        private List<Object> array()
        {
            enter();
            final List<Object> list = new ArrayList<>();
            position++;
            skipSpace();
            if (peek() == ']')
            {
                position++;
                depth--;
                return list;
            }
            while (true)
            {
                skipSpace();
                list.add(value());
                skipSpace();
                if (peek() == ',')
                {
                    position++;
                    continue;
                }
                expect(']');
                depth--;
                return list;
            }
        }

        private String string()
        {
            position++;
            final StringBuilder out = new StringBuilder();
            while (true)
            {
                if (position >= text.length())
                {
                    throw error("unterminated string");
                }
                final char c = text.charAt(position++);
                if (c == '"')
                {
                    return out.toString();
                }
                if (c < 0x20)
                {
                    throw error("control character in string");
                }
                if (c != '\\')
                {
                    out.append(c);
                    continue;
                }
                if (position >= text.length())
                {
                    throw error("unterminated escape");
                }
                final char escaped = text.charAt(position++);
                switch (escaped)
                {
                    case '"', '\\', '/' -> out.append(escaped);
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'u' ->
                    {
                        if (position + 4 > text.length())
                        {
                            throw error("short \\u escape");
                        }
                        try
                        {
                            out.append((char)Integer.parseInt(text.substring(position, position + 4), 16));
                        }
                        catch (final NumberFormatException ex)
                        {
                            throw error("bad \\u escape");
                        }
                        position += 4;
                    }
                    default -> throw error("bad escape '\\" + escaped + "'");
                }
            }
        }

        private Number number()
        {
            final int start = position;
            if (peek() == '-')
            {
                position++;
            }
            boolean integral = true;
            while (position < text.length())
            {
                final char c = text.charAt(position);
                if (c >= '0' && c <= '9')
                {
                    position++;
                }
                else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')
                {
                    integral = false;
                    position++;
                }
                else
                {
                    break;
                }
            }
            final String number = text.substring(start, position);
            if (integral)
            {
                try
                {
                    return Long.parseLong(number);
                }
                catch (final NumberFormatException tooLargeOrMalformed)
                {
                    // fall through: a whole number beyond a long still reads as a double
                }
            }
            try
            {
                return Double.parseDouble(number);
            }
            catch (final NumberFormatException ex)
            {
                throw error("bad number '" + number + "'");
            }
        }

        private Object literal(final String word, final Object value)
        {
            if (!text.startsWith(word, position))
            {
                throw error("unexpected '" + text.charAt(position) + "'");
            }
            position += word.length();
            return value;
        }

        private void enter()
        {
            if (++depth > MAX_DEPTH)
            {
                throw error("nested deeper than " + MAX_DEPTH);
            }
        }

        private char peek()
        {
            return position < text.length() ? text.charAt(position) : '\0';
        }

        private void expect(final char c)
        {
            if (peek() != c)
            {
                throw error("expected '" + c + "'");
            }
            position++;
        }

        void skipSpace()
        {
            while (position < text.length())
            {
                final char c = text.charAt(position);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                {
                    return;
                }
                position++;
            }
        }

        IllegalArgumentException error(final String what)
        {
            return new IllegalArgumentException("bad JSON at offset " + position + ": " + what);
        }
    }
}
