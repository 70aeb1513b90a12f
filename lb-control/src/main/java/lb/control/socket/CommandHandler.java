package lb.control.socket;

/** Carries out one command of the control socket. */
@FunctionalInterface
public interface CommandHandler
{
    /**
     * @param arguments the words after the command name, already checked against its usage for count.
     * @return the answer.
     * @throws CommandException with a one-line reason when the command cannot be carried out.
     */
    Reply handle(Arguments arguments);
}
