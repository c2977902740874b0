// Starts GraphiQL on this server's own endpoint: queries and mutations over HTTP,
// subscriptions over graphql-transport-ws on the same path. Paste a token into the
// headers editor as {"Authorization": "Bearer <token>"}.
(function () {
  var http = window.location.origin + '/graphql';
  var ws = http.replace(/^http/, 'ws');
  var fetcher = GraphiQL.createFetcher({ url: http, subscriptionUrl: ws });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    })
  );
})();
