package lb.control.config;

/**
 * A configuration error. The message is one line that names the place (file and line, or the
 * flag) and the field, for example {@code lb.conf:12: backend weight: expected an integer
 * 0..10000, got 'x'}, and is meant to be shown to the user as it is, with no stack trace.
 */
public final class ConfigException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final boolean commandLine;

    /**
     * @param origin  where the offending setting came from.
     * @param field   the field as the config file spells it (ignored for a flag, which names it).
     * @param problem what is wrong, for example {@code expected a port 1..65535, got '0'}.
     */
    public ConfigException(final Origin origin, final String field, final String problem)
    {
        this(origin.where(field) + ": " + problem, origin.isCommandLine());
    }

    /**
     * @param message     the whole one-line message.
     * @param commandLine true if the command line is to blame, which makes it a usage error.
     */
    public ConfigException(final String message, final boolean commandLine)
    {
        super(message, null, false, false);
        this.commandLine = commandLine;
    }

    /** @return true if a command-line flag is to blame (a usage error), false if the config file is. */
    public boolean isCommandLine()
    {
        return commandLine;
    }
}
