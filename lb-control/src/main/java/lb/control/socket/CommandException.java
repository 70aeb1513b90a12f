package lb.control.socket;

/**
 * A command that cannot be carried out, with a one-line reason for the person or script that sent
 * it: a bad argument, an unknown service, a refused change. The {@link CommandDispatcher} answers
 * it as {@code error: <message>}. {@link RuntimeApi} implementations throw it to refuse a change.
 */
public final class CommandException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message one line saying what is wrong, naming the bad argument or object.
     */
    public CommandException(final String message)
    {
        super(message, null, false, false);
    }
}
