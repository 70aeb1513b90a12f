/**
 * The control socket: lb's runtime API, in the manner of HAProxy's, on a unix stream socket.
 *
 * <h2>Wire protocol</h2>
 * <ul>
 *   <li>One command per line, ended by {@code \n} ({@code \r\n} accepted). Words are separated by
 *       spaces or tabs; {@code "double quotes"} group a word with spaces, and inside them
 *       {@code \"} and {@code \\} escape.</li>
 *   <li>Every line gets exactly one answer, in order: zero or more lines of text, then one empty
 *       line. An answer never contains an empty line, so a reader collects lines up to the first
 *       empty one. An empty command line gets an empty answer (the empty line alone).</li>
 *   <li>An answer starting with {@code error: } is a one-line error, for example
 *       {@code error: unknown command 'xyz'; try 'help'} or
 *       {@code error: invalid WEIGHT: expected an integer 0..10000, got '20000'}.</li>
 *   <li>Every {@code show} command answers in JSON (one line, snake_case keys, times in
 *       nanoseconds as {@code *_ns}) when its last word is {@code json}: {@code show stat json},
 *       {@code show flows 10 json}. Errors stay the text line above. Changes answer one line of
 *       text.</li>
 *   <li>{@code help} lists the commands; {@code quit} closes the connection. Lines over 4096
 *       bytes are answered with an error and discarded; a line not ended when the client closes
 *       is not carried out.</li>
 * </ul>
 * Try it with {@code socat - UNIX-CONNECT:/run/lb/lb.sock}, or use {@code bin/lbctl}.
 *
 * <h2>Use from the appliance</h2>
 * <pre>{@code
 * CommandDispatcher dispatcher = RuntimeCommands.register(new CommandDispatcher(log), runtimeApi);
 * ControlServer server = ControlServer.start(ControlSocketOptions.at(config.controlSocket()), dispatcher, log);
 * ...
 * server.close();   // also on shutdown: removes the socket file
 * }</pre>
 * The {@link lb.control.socket.RuntimeApi} implementation is called on the control-socket
 * thread only.
 */
package lb.control.socket;
