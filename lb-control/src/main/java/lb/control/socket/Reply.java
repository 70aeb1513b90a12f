package lb.control.socket;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a command answers, in both of its forms: text for people and a JSON value for scripts.
 * The {@link CommandDispatcher} picks the form. Text is whole lines, each ended by {@code \n}, and
 * never contains an empty line: the socket uses an empty line to end an answer.
 */
public final class Reply
{
    private static final Reply QUIT = new Reply("", null, true);

    private final String text;
    private final Object json;
    private final boolean closesConnection;

    private Reply(final String text, final Object json, final boolean closesConnection)
    {
        this.text = Objects.requireNonNull(text, "text");
        this.json = json;
        this.closesConnection = closesConnection;
    }

    /**
     * @param line one line of text, without a line break.
     * @return a reply that is that line; its JSON form is {@code {"message": line}}.
     */
    public static Reply message(final String line)
    {
        final Map<String, Object> json = new LinkedHashMap<>();
        json.put("message", line);
        return new Reply(line + "\n", json, false);
    }

    /**
     * @param text the text form: lines, each ended by {@code \n} (one is added if missing).
     * @param json the JSON form as a value tree (see {@link Json}).
     * @return the reply.
     */
    public static Reply of(final String text, final Object json)
    {
        return new Reply(text.isEmpty() || text.endsWith("\n") ? text : text + "\n", json, false);
    }

    /**
     * @param table a table.
     * @return a reply whose text is the aligned table and whose JSON is an array of row objects.
     */
    public static Reply of(final Table table)
    {
        return new Reply(table.text(), table.json(), false);
    }

    /**
     * @param fields named values.
     * @return a reply whose text is one {@code name: value} line per field and whose JSON is an object.
     */
    public static Reply of(final Fields fields)
    {
        return new Reply(fields.text(), fields.json(), false);
    }

    /** @return the reply of {@code quit}: nothing, then the connection closes. */
    public static Reply quit()
    {
        return QUIT;
    }

    /** @return the text form: whole lines, each ended by {@code \n}, or the empty string. */
    public String text()
    {
        return text;
    }

    /** @return the JSON form on one line, without a line break. */
    public String json()
    {
        return Json.write(json);
    }

    /** @return whether the connection closes once this reply is sent. */
    public boolean closesConnection()
    {
        return closesConnection;
    }
}
