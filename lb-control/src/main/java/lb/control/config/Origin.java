package lb.control.config;

/**
 * Where a setting came from: a line of a config file, a whole file, or a command-line flag.
 * Error messages start with it, so every error points at the one place to fix.
 *
 * @param file the config file as the user named it, or null for a flag.
 * @param line the 1-based line, or 0 for the file as a whole.
 * @param flag the command-line flag, for example {@code --client-ip}, or null for a file.
 */
public record Origin(String file, int line, String flag)
{
    /**
     * @param file the config file as the user named it.
     * @param line the 1-based line number.
     * @return the origin of a setting on that line.
     */
    public static Origin line(final String file, final int line)
    {
        return new Origin(file, line, null);
    }

    /**
     * @param file the config file as the user named it.
     * @return the origin of something about the file as a whole, such as a missing setting.
     */
    public static Origin file(final String file)
    {
        return new Origin(file, 0, null);
    }

    /**
     * @param flag the flag, for example {@code --client-ip}.
     * @return the origin of a setting given on the command line.
     */
    public static Origin flag(final String flag)
    {
        return new Origin(null, 0, flag);
    }

    /** @return true if the setting came from the command line, which makes an error a usage error. */
    public boolean isCommandLine()
    {
        return flag != null;
    }

    /**
     * The start of an error message about a field set here: {@code lb.conf:12: backend weight}
     * for a file, or just the flag ({@code --weights}), which already names the field.
     *
     * @param field the field as the config file spells it.
     * @return the message prefix, without the trailing colon.
     */
    public String where(final String field)
    {
        if (flag != null)
        {
            return flag;
        }
        return (line > 0 ? file + ":" + line : file) + ": " + field;
    }

    /**
     * A short back-reference for a message that starts at another origin, such as the first of
     * two duplicates: {@code line 12} when both are in the file (there is only ever one file),
     * {@code lb.conf:12} from a flag's message, or the flag itself.
     *
     * @param from the origin the message starts with.
     * @return the reference.
     */
    public String referenceFrom(final Origin from)
    {
        if (flag != null)
        {
            return flag;
        }
        if (line == 0)
        {
            return file;
        }
        return from.flag == null ? "line " + line : file + ":" + line;
    }
}
